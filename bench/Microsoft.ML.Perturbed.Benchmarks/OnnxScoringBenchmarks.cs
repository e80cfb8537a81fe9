using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Perturbed.Estimators.Heads;

namespace Microsoft.ML.Perturbed.Benchmarks;

/// <summary>
/// Scoring throughput of one label-ranking model (p = 20 features, k = 10 labels, affine) in three engines, same run:
/// our PredictionEngine (row by row), our batched Transform (a data view of Batch rows, both outputs read), and ONNX
/// Runtime on the model written by ExportToOnnx (one [Batch × p] tensor, CPU, all graph optimizations).
/// </summary>
[Config(typeof(OnnxScoringConfig))]
public class OnnxScoringBenchmarks
{
    private const int P = 20, K = 10;

    [Params(1, 1024)]
    public int Batch { get; set; }

    private MLContext _ml = null!;
    private PerturbedPredictionTransformer _model = null!;
    private PredictionEngine<Input, Output> _engine = null!;
    private Input[] _rows = null!;
    private InferenceSession _session = null!;
    private DenseTensor<float> _tensor = null!;
    private DenseTensor<float> _labels = null!;   // a graph input (a column of the training schema), unused by the outputs

    public sealed class Input
    {
        [VectorType(P)] public float[] Features { get; set; } = [];
        [VectorType(K)] public float[] Label { get; set; } = [];
    }

    public sealed class Output
    {
        [VectorType(K)] public float[] Score { get; set; } = [];
        [VectorType(K)] public float[] PredictedRanking { get; set; } = [];
    }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        var rng = new System.Random(1);
        Input Row()
        {
            float[] x = Enumerable.Range(0, P).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            double[] s = Enumerable.Range(0, K).Select(j => x[j] + 0.5 * x[(j + 3) % P]).ToArray();
            int[] order = Enumerable.Range(0, K).OrderByDescending(j => s[j]).ToArray();
            var ranks = new float[K];
            for (int r = 0; r < K; r++) ranks[order[r]] = r + 1;
            return new Input { Features = x, Label = ranks };
        }
        IDataView train = _ml.Data.LoadFromEnumerable(Enumerable.Range(0, 500).Select(_ => Row()).ToArray());
        _model = _ml.LabelRanking().Trainers.PerturbedFenchelYoung(numberOfIterations: 5).Fit(train);
        _engine = _ml.Model.CreatePredictionEngine<Input, Output>(_model);
        _rows = Enumerable.Range(0, Batch).Select(_ => Row()).ToArray();
        using var stream = new MemoryStream();
        _ml.Model.ExportToOnnx(_model, train, stream);
        _session = new InferenceSession(stream.ToArray(), new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        _tensor = new DenseTensor<float>(_rows.SelectMany(r => r.Features).ToArray(), [Batch, P]);
        _labels = new DenseTensor<float>([Batch, K]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _engine.Dispose();
    }

    [Benchmark(Description = "PredictionEngine")]
    public float PredictionEngine()
    {
        float sum = 0;
        foreach (Input row in _rows) sum += _engine.Predict(row).PredictedRanking[0];
        return sum;
    }

    [Benchmark(Description = "Transform (batched)")]
    public float Transform()
    {
        IDataView scored = _model.Transform(_ml.Data.LoadFromEnumerable(_rows));
        float sum = 0;
        using DataViewRowCursor cursor = scored.GetRowCursor(scored.Schema.Where(c => c.Name is "Score" or "PredictedRanking"));
        ValueGetter<VBuffer<float>> score = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        ValueGetter<VBuffer<float>> ranking = cursor.GetGetter<VBuffer<float>>(scored.Schema["PredictedRanking"]);
        VBuffer<float> s = default, r = default;
        while (cursor.MoveNext())
        {
            score(ref s);
            ranking(ref r);
            sum += r.GetValues()[0];
        }
        return sum;
    }

    [Benchmark(Description = "ONNX Runtime")]
    public float OnnxRuntime()
    {
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = _session.Run(
            [NamedOnnxValue.CreateFromTensor("Features", _tensor), NamedOnnxValue.CreateFromTensor("Label", _labels)], ["Score.output", "PredictedRanking.output"]);
        return results.Last().AsTensor<float>()[0, 0];
    }
}

/// <summary>The short job with a rows-per-second column.</summary>
public sealed class OnnxScoringConfig : BenchmarkDotNet.Configs.ManualConfig
{
    public OnnxScoringConfig()
    {
        Add(new BenchConfig());
        AddColumn(new RowsPerSecondColumn());
    }
}

/// <summary>Rows scored per second: Batch divided by the mean time of one call.</summary>
public sealed class RowsPerSecondColumn : IColumn
{
    public string Id => "RowsPerSecond";
    public string ColumnName => "Rows/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Rows scored per second (Batch / mean)";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null || benchmarkCase.Parameters["Batch"] is not int batch) return "-";
        return (batch / (stats.Mean * 1e-9)).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }
}
