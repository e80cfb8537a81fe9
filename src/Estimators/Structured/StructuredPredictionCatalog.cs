using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>Top-k metrics: precision@k = |predicted ∩ true| / k averaged over rows, and the share of rows whose set is exact.</summary>
public sealed record TopKMetrics(double PrecisionAtK, double ExactSetMatch, long Rows);

/// <summary>Matching metrics (Cohen Indelman &amp; Hazan 2021): share of wrongly assigned positions, and of rows with any error.</summary>
public sealed record MatchingMetrics(double WrongPositions, double AnyError, long Rows);

/// <summary>Structured prediction tasks ML.NET does not have: top-k (multilabel with k labels per row) and matching.</summary>
public sealed class StructuredPredictionCatalog
{
    internal StructuredPredictionCatalog(MLContext mlContext)
    {
        mlContext.ComponentCatalog.RegisterPerturbed();
        Trainers = new StructuredPredictionTrainers(mlContext);
    }

    /// <summary>Trainers.</summary>
    public StructuredPredictionTrainers Trainers { get; }

    /// <summary>Precision@k and exact-set match of 0/1 predictions against 0/1 labels.</summary>
    public TopKMetrics EvaluateTopK(IDataView data, string labelColumnName = "Label", string predictionColumnName = StructuredPredictionTransformer.PredictionColumnName)
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

    /// <summary>Share of wrong positions and of rows with any error, for n×n assignment predictions against assignment labels.</summary>
    public MatchingMetrics EvaluateMatching(IDataView data, string labelColumnName = "Label", string predictionColumnName = StructuredPredictionTransformer.PredictionColumnName)
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

/// <summary>Trainers of <see cref="StructuredPredictionCatalog"/>.</summary>
public sealed class StructuredPredictionTrainers
{
    private readonly MLContext _mlContext;

    internal StructuredPredictionTrainers(MLContext mlContext) => _mlContext = mlContext;

    /// <summary>Top-k (multilabel, k labels per row) with the perturbed Fenchel-Young loss over the top-k polytope.</summary>
    /// <param name="k">Labels per row, 1 ≤ k ≤ number of labels.</param>
    /// <param name="options">Options (labels: 0/1 vectors with k ones).</param>
    public PerturbedStructuredTrainer TopK(int k, PerturbedStructuredOptions? options = null) => Create(StructuredHeadKind.TopK, k, options);

    /// <summary>Perfect matching of n items with the perturbed Fenchel-Young loss over the Birkhoff polytope.</summary>
    /// <param name="n">Side of the assignment: the label is an n×n permutation matrix (row-major, n² slots).</param>
    /// <param name="options">Options.</param>
    public PerturbedStructuredTrainer Matching(int n, PerturbedStructuredOptions? options = null) => Create(StructuredHeadKind.Matching, n, options);

    private PerturbedStructuredTrainer Create(StructuredHeadKind kind, int parameter, PerturbedStructuredOptions? options)
    {
        options ??= new PerturbedStructuredOptions();
        return new PerturbedStructuredTrainer(((IHostEnvironment)_mlContext).Register("PerturbedStructured"), kind, parameter, options);
    }
}

/// <summary>Entry point of the structured prediction tasks.</summary>
public static class StructuredPredictionCatalogExtensions
{
    /// <summary>Top-k and matching: <c>mlContext.StructuredPrediction().Trainers.TopK(k)</c>, <c>.Matching(n)</c>, and their evaluators.</summary>
    public static StructuredPredictionCatalog StructuredPrediction(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new StructuredPredictionCatalog(mlContext);
    }
}
