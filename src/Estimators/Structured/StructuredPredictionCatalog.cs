using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>Structured prediction tasks ML.NET does not have: top-k (multilabel with k labels per row), matching, shortest paths, knapsack and any head of the user's.</summary>
public sealed class StructuredPredictionCatalog
{
    private readonly MLContext _mlContext;

    internal StructuredPredictionCatalog(MLContext mlContext)
    {
        _mlContext = mlContext;
        mlContext.ComponentCatalog.RegisterPerturbed();
        Trainers = new StructuredPredictionTrainers(mlContext);
    }

    /// <summary>Trainers.</summary>
    public StructuredPredictionTrainers Trainers { get; }

    /// <summary>
    /// Precision@k and exact-set match of 0/1 predictions against 0/1 labels, e.g. on the output of a
    /// <c>Trainers.TopK(k)</c> model.
    /// </summary>
    /// <param name="data">Scored data.</param>
    /// <param name="labelColumnName">The 0/1 labels (default <c>Label</c>).</param>
    /// <param name="predictionColumnName">The 0/1 predictions, of the label's size (default <c>Prediction</c>, the column a top-k model appends).</param>
    public TopKMetrics EvaluateTopK(IDataView data, string labelColumnName = "Label", string predictionColumnName = DecisionHead.PredictionColumnName)
    {
        (double hits, double exact, long rows) = Compare(data, labelColumnName, predictionColumnName, (y, yHat) =>
        {
            int k = 0, common = 0;
            bool same = true;
            for (int i = 0; i < y.Length; i++)
            {
                if (yHat[i] == 1) k++;
                if (y[i] == 1 && yHat[i] == 1) common++;
                if (y[i] != yHat[i]) same = false;
            }
            return (k == 0 ? 0 : (double)common / k, same ? 1 : 0);
        });
        return new TopKMetrics(hits / rows, exact / rows, rows);
    }

    /// <summary>
    /// Decision quality (PyEPO's definitions): the decisions the head takes on the predicted <c>Score</c> column, judged with
    /// the true costs (or scores) in the label column — mean regret, normalized regret Σ regret / Σ |z*|, exact-solution
    /// rate and objective ratio.
    /// </summary>
    /// <param name="data">Scored data.</param>
    /// <param name="head">The model's head (<c>transformer.HeadModel</c>), bound; its labels must be true costs.</param>
    /// <param name="labelColumnName">True costs.</param>
    /// <param name="scoreColumnName">Predicted costs.</param>
    public DecisionMetrics EvaluateDecisions(IDataView data, PerturbedHead head, string labelColumnName = "Label", string scoreColumnName = "Score")
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(head);
        head.CheckBound("Decision metrics");
        if (head is DecisionHead { Labels: LabelKind.Solution })
        {
            throw new ArgumentException($"Regret needs the true costs of each instance; head {head} was trained on solution labels. Evaluate on a column of true costs with a LabelKind.Costs head.", nameof(head));
        }
        int d = head.Dimension;
        DataViewSchema.Column label = VectorColumns.Require(data.Schema, labelColumnName, d), score = VectorColumns.Require(data.Schema, scoreColumnName, d);
        var truth = new List<float>();
        var predicted = new List<float>();
        var row = new float[d];
        VBuffer<float> buffer = default;
        using (DataViewRowCursor cursor = data.GetRowCursor([label, score]))
        {
            ValueGetter<VBuffer<float>> getLabel = cursor.GetGetter<VBuffer<float>>(label), getScore = cursor.GetGetter<VBuffer<float>>(score);
            while (cursor.MoveNext())
            {
                getLabel(ref buffer);
                VectorColumns.ReadFinite(buffer, row, label.Name, cursor.Position, "evaluation");
                truth.AddRange(row);
                getScore(ref buffer);
                VectorColumns.ReadFinite(buffer, row, score.Name, cursor.Position, "evaluation");
                predicted.AddRange(row);
            }
        }
        if (truth.Count == 0) throw new InvalidOperationException("The data to evaluate has no rows.");
        return DecisionMetrics.Evaluate(head.CreateOracle(), predicted.ToArray(), truth.ToArray());
    }

    /// <summary>
    /// Permutation feature importance (ML.NET's engine) for any head: for each slot of the predictor's features column,
    /// the change of <paramref name="metric"/> of the scored data when that slot is permuted across rows — e.g.
    /// <c>scored => catalog.EvaluateDecisions(scored, head).NormalizedRegret</c> (positive: permuting it hurt) or a precision@k.
    /// Keyed by the features column's slot names, or "Slot i" when it has none (ML.NET's own
    /// <c>MulticlassClassification.PermutationFeatureImportance</c> needs slot names, for its trainers and ours; this method,
    /// with e.g. <c>scored => mlContext.MulticlassClassification.Evaluate(scored).MicroAccuracy</c>, does not).
    /// </summary>
    /// <param name="model">The trained model, or a chain ending in a perturbed predictor.</param>
    /// <param name="data">Data with the predictor's features column and what <paramref name="metric"/> reads.</param>
    /// <param name="metric">The metric of scored data.</param>
    /// <param name="numberOfExamplesToUse">Rows to use; null (default) uses all.</param>
    /// <param name="permutationCount">Permutations per slot (default 1).</param>
    /// <returns>Per slot name (or "Slot i"), the statistics of the metric's change.</returns>
    public System.Collections.Immutable.ImmutableDictionary<string, MetricChangeStatistics> PermutationFeatureImportance(ITransformer model, IDataView data,
        Func<IDataView, double> metric, int? numberOfExamplesToUse = null, int permutationCount = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(metric);
        if (permutationCount < 1) throw new ArgumentOutOfRangeException(nameof(permutationCount), permutationCount, "At least one permutation is needed.");
        return ModelPersistence.FeatureImportance.Scalar(_mlContext, model, data, metric, permutationCount, numberOfExamplesToUse);
    }

    /// <summary>
    /// Share of wrong positions and of rows with any error, for n×n assignment predictions against assignment labels, e.g.
    /// on the output of a <c>Trainers.Matching(n)</c> model.
    /// </summary>
    /// <param name="data">Scored data.</param>
    /// <param name="labelColumnName">The assignment labels, n² values row-major (default <c>Label</c>).</param>
    /// <param name="predictionColumnName">The predicted assignments (default <c>Prediction</c>, the column a matching model appends).</param>
    /// <exception cref="ArgumentOutOfRangeException">The label's size is not a square.</exception>
    public MatchingMetrics EvaluateMatching(IDataView data, string labelColumnName = "Label", string predictionColumnName = DecisionHead.PredictionColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        int size = ((VectorDataViewType)VectorColumns.Require(data.Schema, labelColumnName).Type).Size, side = (int)Math.Round(Math.Sqrt(size));
        if (side * side != size)
        {
            throw new ArgumentOutOfRangeException(nameof(labelColumnName), size,
                $"Schema mismatch for label column '{labelColumnName}': expected an n × n assignment (a vector of n² values), got {size} values, which is not a square.");
        }
        (double wrong, double any, long rows) = Compare(data, labelColumnName, predictionColumnName, (y, yHat) =>
        {
            int n = (int)Math.Round(Math.Sqrt(y.Length)), errors = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    if (y[i * n + j] == 1 && yHat[i * n + j] != 1)
                    {
                        errors++;
                    }
                }
            }
            return ((double)errors / n, errors > 0 ? 1 : 0);
        });
        return new MatchingMetrics(wrong / rows, any / rows, rows);
    }

    private static (double First, double Second, long Rows) Compare(IDataView data, string labelColumnName, string predictionColumnName,
        Func<float[], float[], (double, double)> score)
    {
        ArgumentNullException.ThrowIfNull(data);
        DataViewSchema.Column label = VectorColumns.Require(data.Schema, labelColumnName);
        int d = ((VectorDataViewType)label.Type).Size;
        DataViewSchema.Column predicted = VectorColumns.Require(data.Schema, predictionColumnName, d);
        var y = new float[d];
        var yHat = new float[d];
        VBuffer<float> buffer = default;
        double first = 0, second = 0;
        long rows = 0;
        using (DataViewRowCursor cursor = data.GetRowCursor([label, predicted]))
        {
            ValueGetter<VBuffer<float>> getY = cursor.GetGetter<VBuffer<float>>(label), getP = cursor.GetGetter<VBuffer<float>>(predicted);
            while (cursor.MoveNext())
            {
                getY(ref buffer);
                VectorColumns.ReadFinite(buffer, y, label.Name, cursor.Position, "evaluation");
                getP(ref buffer);
                VectorColumns.ReadFinite(buffer, yHat, predicted.Name, cursor.Position, "evaluation");
                (double a, double b) = score(y, yHat);
                first += a;
                second += b;
                rows++;
            }
        }
        if (rows == 0)
        {
            throw new InvalidOperationException("The data to evaluate has no rows.");
        }
        return (first, second, rows);
    }
}
