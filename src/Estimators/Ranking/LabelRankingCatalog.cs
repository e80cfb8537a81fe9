using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;

namespace Microsoft.ML.Perturbed.Estimators.Ranking;

/// <summary>
/// The label-ranking task, which ML.NET does not have: <c>mlContext.LabelRanking()</c> gives its trainers, evaluator
/// and cross-validation. Labels are vectors of ranks with 1 = most preferred (the format of the classic label-ranking
/// data sets); predictions use the same convention.
/// </summary>
public sealed class LabelRankingCatalog
{
    /// <summary>Name of the scores column a label-ranking model appends: "Score".</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>Name of the predicted ranking column a label-ranking model appends (rank 1 = most preferred): "PredictedRanking".</summary>
    public const string PredictedRankingColumnName = "PredictedRanking";

    private readonly MLContext _mlContext;

    internal LabelRankingCatalog(MLContext mlContext)
    {
        _mlContext = mlContext;
        Trainers = new LabelRankingTrainers(mlContext);
        mlContext.ComponentCatalog.RegisterPerturbed();
    }

    /// <summary>Trainers of the task.</summary>
    public LabelRankingTrainers Trainers { get; }

    /// <summary>Compares predicted rankings with true ones (both: ranks, 1 = most preferred).</summary>
    /// <param name="data">Scored data.</param>
    /// <param name="labelColumnName">True rankings.</param>
    /// <param name="predictedRankingColumnName">Predicted rankings.</param>
    public LabelRankingMetrics Evaluate(IDataView data, string labelColumnName = "Label",
        string predictedRankingColumnName = PredictedRankingColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        DataViewSchema.Column label = VectorColumns.Require(data.Schema, labelColumnName);
        DataViewSchema.Column predicted = VectorColumns.Require(data.Schema, predictedRankingColumnName, ((VectorDataViewType)label.Type).Size);
        int k = ((VectorDataViewType)label.Type).Size;
        var truth = new float[k];
        var guess = new float[k];
        var positionHits = new long[k];
        double spearman = 0, kendall = 0;
        long exact = 0, rows = 0;
        VBuffer<float> buffer = default;
        using (DataViewRowCursor cursor = data.GetRowCursor([label, predicted]))
        {
            ValueGetter<VBuffer<float>> getLabel = cursor.GetGetter<VBuffer<float>>(label), getPredicted = cursor.GetGetter<VBuffer<float>>(predicted);
            while (cursor.MoveNext())
            {
                getLabel(ref buffer);
                VectorColumns.ReadFinite(buffer, truth, label.Name, cursor.Position, "evaluation");
                Heads.RankingHead.CheckRanking(truth, label.Name, cursor.Position);
                getPredicted(ref buffer);
                VectorColumns.ReadFinite(buffer, guess, predicted.Name, cursor.Position, "evaluation");
                Heads.RankingHead.CheckRanking(guess, predicted.Name, cursor.Position);
                (double rho, double tau) = Correlations(truth, guess);
                spearman += rho;
                kendall += tau;
                bool all = true;
                for (int i = 0; i < k; i++)
                {
                    // The label at position truth[i] is right iff the prediction puts label i there too.
                    if (truth[i] == guess[i]) positionHits[(int)truth[i] - 1]++;
                    else all = false;
                }
                if (all) exact++;
                rows++;
            }
        }
        if (rows == 0)
        {
            throw new InvalidOperationException("The data to evaluate has no rows.");
        }
        return new LabelRankingMetrics(spearman / rows, kendall / rows, (double)exact / rows, positionHits.Select(h => (double)h / rows).ToArray(), rows);
    }

    /// <summary>
    /// Permutation feature importance (ML.NET's engine, as for its own tasks): for each slot of the predictor's features
    /// column, the change of the label-ranking metrics when that slot is permuted across rows (negative: the feature
    /// mattered). <paramref name="data"/> holds the predictor's input columns, e.g. <c>model.Transform(data)</c> of a pipeline.
    /// </summary>
    /// <param name="model">The trained model, or a chain ending in a label-ranking predictor.</param>
    /// <param name="data">Data with the features column and the true rankings.</param>
    /// <param name="labelColumnName">True rankings.</param>
    /// <param name="numberOfExamplesToUse">Rows to use; null (default) uses all.</param>
    /// <param name="permutationCount">Permutations per slot (default 1); more give the statistics a standard deviation.</param>
    /// <returns>Per slot name (or "Slot i" when the features column has no slot names), the statistics of the metrics' changes.</returns>
    public System.Collections.Immutable.ImmutableDictionary<string, LabelRankingMetricsStatistics> PermutationFeatureImportance(ITransformer model, IDataView data,
        string labelColumnName = "Label", int? numberOfExamplesToUse = null, int permutationCount = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (permutationCount < 1) throw new ArgumentOutOfRangeException(nameof(permutationCount), permutationCount, "At least one permutation is needed.");
        return ModelPersistence.FeatureImportance.LabelRanking(_mlContext, model, data, scored => Evaluate(scored, labelColumnName), permutationCount, numberOfExamplesToUse);
    }

    /// <summary>Spearman's ρ and Kendall's τ of two rank vectors without ties.</summary>
    internal static (double Spearman, double Kendall) Correlations(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int k = a.Length;
        if (k < 2)
        {
            return (1, 1);
        }
        double d2 = 0;
        for (int i = 0; i < k; i++) d2 += (a[i] - b[i]) * (double)(a[i] - b[i]);
        long concordant = 0, discordant = 0;
        for (int i = 0; i < k; i++)
        {
            for (int j = i + 1; j < k; j++)
            {
                float s = (a[i] - a[j]) * (b[i] - b[j]);
                if (s > 0) concordant++;
                else if (s < 0) discordant++;
            }
        }
        return (1 - 6 * d2 / (k * ((double)k * k - 1)), (concordant - discordant) / (k * (k - 1) / 2.0));
    }

    /// <summary>k-fold cross-validation: trains on k − 1 folds, evaluates on the held-out one, for every fold.</summary>
    /// <param name="data">The data.</param>
    /// <param name="estimator">The pipeline (ending in a label-ranking trainer).</param>
    /// <param name="numberOfFolds">Folds; default 5.</param>
    /// <param name="labelColumnName">True rankings.</param>
    /// <param name="seed">Seed of the split; null uses the context's.</param>
    public IReadOnlyList<LabelRankingCrossValidationResult> CrossValidate(IDataView data, IEstimator<ITransformer> estimator,
        int numberOfFolds = 5, string labelColumnName = "Label", int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(estimator);
        if (numberOfFolds < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(numberOfFolds), numberOfFolds, "Cross-validation needs at least 2 folds.");
        }
        var results = new List<LabelRankingCrossValidationResult>();
        int fold = 0;
        foreach (DataOperationsCatalog.TrainTestData split in _mlContext.Data.CrossValidationSplit(data, numberOfFolds, seed: seed))
        {
            ITransformer model = estimator.Fit(split.TrainSet);
            IDataView scored = model.Transform(split.TestSet);
            results.Add(new LabelRankingCrossValidationResult(fold++, Evaluate(scored, labelColumnName), model, scored));
        }
        return results;
    }
}
