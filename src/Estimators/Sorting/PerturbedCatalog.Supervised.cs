using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Estimators.Sorting;
using Microsoft.ML.Trainers;

// Extension methods in ML.NET's own namespace (see PerturbedCatalog.cs).
namespace Microsoft.ML;

// Part of PerturbedCatalog: the SUQUAN trainers (mlContext.BinaryClassification.Trainers and MulticlassClassification.Trainers).
public static partial class PerturbedCatalog
{
    /// <summary>
    /// SUQUAN, supervised quantile normalization (Le Morvan &amp; Vert 2017), for binary classification: quantile
    /// normalization of the features with a target quantile function f learned jointly with a logistic regression on the
    /// normalized features, min over (w, b, f) of (1/N) Σᵢ log(1 + exp(−yᵢ(w·Ψ_f(xᵢ) + b))) + λ/2 ‖w‖² (y = ±1), where
    /// Ψ_f(x) puts f's values at the ascending ranks of x. The fit alternates convex steps from f = the training mean of
    /// the sorted rows: logistic regression in (w, b) on Ψ_f(x) (L-BFGS), then the same loss in (f, b) by projected
    /// gradient with f kept non-decreasing (PAV), centred and at ‖f‖² = n (f's scale only trades against ‖w‖); no step
    /// raises the objective. Ties: a run of equal values in a row shares the mean of its targets (as
    /// <see cref="QuantileNormalize(TransformsCatalog, string, string?, QuantileTarget, double)"/> at ε = 0). Results do
    /// not depend on the thread count.
    /// <para>
    /// <c>Fit</c> returns a chain of two ML.NET components: a <see cref="SoftSortingTransformer"/> writing the normalized
    /// features to <paramref name="normalizedColumnName"/> — the learned f is
    /// <c>((SoftSortingTransformer)model.First()).GetTargets(normalizedColumnName)</c> — then ML.NET's calibrated linear
    /// predictor on that column (<c>Score</c>, <c>Probability</c> = σ(Score), <c>PredictedLabel</c>, what
    /// <c>LbfgsLogisticRegression</c> gives, so <c>BinaryClassification.Evaluate</c> applies). The model saves and loads as
    /// those components do (no registration call) and exports to ONNX.
    /// </para>
    /// <para>
    /// Bad input: a features column that is not a known-size vector of Single with at least 2 slots, or a label that is not
    /// Boolean, is refused in ML.NET's wording; a row with NaN/∞ features is skipped and counted in the log (or refused,
    /// naming column, row and slot, with <paramref name="throwOnMissingValues"/>); a vector of the wrong length is refused
    /// naming column and row. At scoring, the quantile normalization refuses NaN/∞ features naming column, row and slot
    /// (a row with a missing value has no ranks).
    /// </para>
    /// </summary>
    /// <param name="catalog">The binary classification trainers catalog.</param>
    /// <param name="labelColumnName">The Boolean label column; default "Label".</param>
    /// <param name="featureColumnName">The features: a known-size vector of Single (at least 2 slots); default "Features".</param>
    /// <param name="normalizedColumnName">The column the quantile-normalized features are written to; default null: "QuantileNormalized" + <paramref name="featureColumnName"/>.</param>
    /// <param name="numberOfAlternations">Alternations (an f-step then a w-step each; they stop early once one lowers the objective by less than 1e-7 of its value); 0 gives quantile normalization to <paramref name="initialTarget"/> followed by logistic regression. Default 10, as the authors' R package.</param>
    /// <param name="l2Regularization">λ ≥ 0 of λ/2 ‖w‖² (the loss is averaged over rows; the bias is not penalized). Default 1e-3.</param>
    /// <param name="initialTarget">Where f starts: <see cref="QuantileTarget.Learned"/> (default, the training mean of the sorted rows), <see cref="QuantileTarget.Uniform"/> or <see cref="QuantileTarget.Normal"/> (centred and scaled to ‖f‖² = n).</param>
    /// <param name="throwOnMissingValues">Refuse a training row with NaN/∞ features instead of skipping it; default false.</param>
    /// <example><code>
    /// var model = mlContext.BinaryClassification.Trainers.SupervisedQuantileNormalization().Fit(data);
    /// IReadOnlyList&lt;double&gt; f = ((SoftSortingTransformer)model.First()).GetTargets("QuantileNormalizedFeatures");
    /// </code></example>
    public static IEstimator<TransformerChain<BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>>> SupervisedQuantileNormalization(
        this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, string labelColumnName = "Label", string featureColumnName = "Features",
        string? normalizedColumnName = null, int numberOfAlternations = Perturbed.Sorting.SupervisedQuantileOptions.DefaultAlternations,
        double l2Regularization = Perturbed.Sorting.SupervisedQuantileOptions.DefaultL2Regularization, QuantileTarget initialTarget = QuantileTarget.Learned,
        bool throwOnMissingValues = false)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        SupervisedQuantileSettings settings = Settings(labelColumnName, featureColumnName, normalizedColumnName, numberOfAlternations, l2Regularization, initialTarget, throwOnMissingValues);
        var estimator = new BinarySupervisedQuantileTrainer(MlNetInternals.EnvironmentOf(catalog), settings,
            catalog.LbfgsLogisticRegression(settings.LabelColumnName, settings.NormalizedColumnName));
        RegisterWith(catalog);
        return estimator;
    }

    /// <summary>
    /// SUQUAN for multiclass classification: as the binary trainer
    /// (<see cref="SupervisedQuantileNormalization(BinaryClassificationCatalog.BinaryClassificationTrainers, string, string, string?, int, double, QuantileTarget, bool)"/>)
    /// with the multinomial logistic loss, one weight vector per class and one quantile function f shared by the classes:
    /// min over (W, b, f) of (1/N) Σᵢ [log Σ_c exp(s_c) − s_yᵢ] + λ/2 ‖W‖², s = W Ψ_f(xᵢ) + b. The chain ends in ML.NET's
    /// maximum-entropy predictor (<c>Score</c> = softmax(s), <c>PredictedLabel</c> with the label's key values, what
    /// <c>LbfgsMaximumEntropy</c> gives, so <c>MulticlassClassification.Evaluate</c> applies); the label is a key (a
    /// missing key, 0, is a missing label: skipped and counted, or refused with <paramref name="throwOnMissingValues"/>).
    /// </summary>
    /// <param name="catalog">The multiclass classification trainers catalog.</param>
    /// <param name="labelColumnName">The key-typed label column (at least 2 classes); default "Label".</param>
    /// <param name="featureColumnName">The features: a known-size vector of Single (at least 2 slots); default "Features".</param>
    /// <param name="normalizedColumnName">The column the quantile-normalized features are written to; default null: "QuantileNormalized" + <paramref name="featureColumnName"/>.</param>
    /// <param name="numberOfAlternations">Alternations (an f-step then a w-step each); default 10.</param>
    /// <param name="l2Regularization">λ ≥ 0 of λ/2 ‖W‖²; default 1e-3.</param>
    /// <param name="initialTarget">Where f starts; default <see cref="QuantileTarget.Learned"/> (the training mean of the sorted rows).</param>
    /// <param name="throwOnMissingValues">Refuse a training row with NaN/∞ features or a missing label instead of skipping it; default false.</param>
    public static IEstimator<TransformerChain<MulticlassPredictionTransformer<MaximumEntropyModelParameters>>> SupervisedQuantileNormalization(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, string labelColumnName = "Label", string featureColumnName = "Features",
        string? normalizedColumnName = null, int numberOfAlternations = Perturbed.Sorting.SupervisedQuantileOptions.DefaultAlternations,
        double l2Regularization = Perturbed.Sorting.SupervisedQuantileOptions.DefaultL2Regularization, QuantileTarget initialTarget = QuantileTarget.Learned,
        bool throwOnMissingValues = false)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        SupervisedQuantileSettings settings = Settings(labelColumnName, featureColumnName, normalizedColumnName, numberOfAlternations, l2Regularization, initialTarget, throwOnMissingValues);
        var estimator = new MulticlassSupervisedQuantileTrainer(MlNetInternals.EnvironmentOf(catalog), settings,
            catalog.LbfgsMaximumEntropy(settings.LabelColumnName, settings.NormalizedColumnName));
        RegisterWith(catalog);
        return estimator;
    }

    private static SupervisedQuantileSettings Settings(string labelColumnName, string featureColumnName, string? normalizedColumnName,
        int numberOfAlternations, double l2Regularization, QuantileTarget initialTarget, bool throwOnMissingValues)
    {
        var settings = new SupervisedQuantileSettings(labelColumnName, featureColumnName,
            normalizedColumnName ?? SupervisedQuantileSettings.DefaultNormalizedColumnName(featureColumnName ?? ""),
            numberOfAlternations, l2Regularization, initialTarget, throwOnMissingValues);
        settings.Validate();   // before ML.NET's trainer sees the names
        return settings;
    }
}
