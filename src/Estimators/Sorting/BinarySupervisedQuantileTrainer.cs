using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>
/// SUQUAN for binary classification (Boolean label, logistic loss): the chain ends in ML.NET's calibrated linear
/// predictor, as <c>LbfgsLogisticRegression</c> returns it (<c>Score</c> = w·Ψ_f(x) + b, <c>Probability</c> = σ(Score),
/// <c>PredictedLabel</c> = Score &gt; 0), so <c>BinaryClassification.Evaluate</c> applies.
/// </summary>
internal sealed class BinarySupervisedQuantileTrainer(IHostEnvironment env, SupervisedQuantileSettings settings, IEstimator<ITransformer> announcer)
    : SupervisedQuantileTrainer<BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>>(env, settings, announcer)
{
    private protected override int BindLabel(DataViewSchema.Column label) => label.Type == BooleanDataViewType.Instance ? 1
        : throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected Boolean, got {label.Type}");

    private protected override Func<int> LabelReader(DataViewRow row, DataViewSchema.Column label)
    {
        ValueGetter<bool> getter = row.GetGetter<bool>(label);
        bool value = false;
        return () =>
        {
            getter(ref value);
            return value ? 1 : 0;
        };
    }

    private protected override BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>> CreatePredictor(
        SupervisedQuantileModel model, DataViewSchema schema, DataViewSchema.Column label) =>
        MlNetModels.LogisticRegression(Host, model.Weights.Select(v => (float)v).ToArray(), (float)model.Bias[0], schema, Settings.NormalizedColumnName);
}
