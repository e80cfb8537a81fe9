using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Estimators.Sorting;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// ONNX export: every exportable component's file, run in ONNX Runtime (all graph optimizations) and through ML.NET's
/// ApplyOnnxModel on the same rows, gives our transformer's outputs — scores within 1e-6 relative, predicted labels,
/// rankings and selections equal, ties included — and the unsupported ones fail saying what to do.
/// </summary>
public class OnnxExportTests
{
    private const int P = 6;   // fewer features than a SIMD vector: our dot products accumulate in double, as ONNX's double MatMul

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>Half random rows, half dyadic ones (exact in float: scores tie exactly where the weights tie), one all-zero row.</summary>
    private static float[][] Rows(int n, int seed, int p = P)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(r => r == 0 ? new float[p]
            : Enumerable.Range(0, p).Select(_ => r % 2 == 0 ? (float)(rng.NextDouble() * 4 - 2) : rng.Next(-4, 5) / 4f).ToArray()).ToArray();
    }

    private static IDataView Data(MLContext ml, float[][] rows)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Features = r }), definition);
    }

    /// <summary>Weights in multiples of 1/8 with rows <paramref name="tied"/> equal to row 0 (and their biases equal).</summary>
    private static AffineModel Affine(int p, int d, int seed, params int[] tied)
    {
        var rng = new System.Random(seed);
        float[] w = Enumerable.Range(0, d * p).Select(_ => rng.Next(-8, 9) / 8f).ToArray();
        float[] b = Enumerable.Range(0, d).Select(_ => rng.Next(-4, 5) / 4f).ToArray();
        foreach (int t in tied)
        {
            Array.Copy(w, 0, w, t * p, p);
            b[t] = b[0];
        }
        return new AffineModel(w, b);
    }

    private static DataViewSchema.Column Label(DataViewType type)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Label", type);
        return builder.ToSchema()["Label"];
    }

    private static PerturbedPredictionTransformer Model(PerturbedHead unbound, DataViewType label, IScoreModel scores, double epsilon = 0.5, NoiseDistribution? noise = null)
    {
        PerturbedHead head = unbound.Bind(Label(label));
        return head.CreateTransformer(new PerturbedModelParameters(scores, head, epsilon, noise ?? NoiseDistribution.Gumbel), "Features");
    }

    private static byte[] Export(MLContext ml, ITransformer model, IDataView data, PerturbedOnnxExportOptions? options = null)
    {
        using var stream = new MemoryStream();
        ml.Model.ExportToOnnx(model, data, stream, options);
        byte[] bytes = stream.ToArray();
        int opset = options?.OpsetVersion ?? PerturbedOnnxExportOptions.DefaultOpsetVersion;
        var info = MlNetOnnx.Describe(bytes);
        Assert.Equal(opset, info.Opsets[""]);
        Assert.Equal(opset <= 14 ? 7 : 8, info.IrVersion);
        Assert.All(info.BatchDims, d => Assert.Equal("batch", d));
        OnnxChecker.Check(bytes);
        return bytes;
    }

    /// <summary>Runs the model in ONNX Runtime with every graph optimization on float inputs ([rows × size] each); outputs as double rows.</summary>
    private static Dictionary<string, double[][]> Run(byte[] model, params (string Name, float[][] Rows)[] inputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, options);
        var feeds = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name,
            new DenseTensor<float>(i.Rows.SelectMany(r => r).ToArray(), [i.Rows.Length, i.Rows[0].Length]))).ToList();
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(feeds);
        var outputs = new Dictionary<string, double[][]>();
        foreach (DisposableNamedOnnxValue r in results)
        {
            (double[] flat, int[] dims) = r.Value switch
            {
                DenseTensor<float> f => (f.ToArray().Select(v => (double)v).ToArray(), f.Dimensions.ToArray()),
                DenseTensor<uint> u => (u.ToArray().Select(v => (double)v).ToArray(), u.Dimensions.ToArray()),
                DenseTensor<long> l => (l.ToArray().Select(v => (double)v).ToArray(), l.Dimensions.ToArray()),
                var other => throw new InvalidOperationException($"Output '{r.Name}' has an unexpected ONNX value type {other?.GetType().Name}."),
            };
            Assert.True(dims.Length == 2, $"Output '{r.Name}' has rank {dims.Length}; every exported column is [batch × size].");
            int width = dims[1];
            outputs[r.Name] = Enumerable.Range(0, dims[0]).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray();
        }
        return outputs;
    }

    /// <summary>
    /// Within 1e-6 of each value, relative; the floor 1e-12 × the row's largest magnitude admits the one place two exact
    /// formulas round differently: the mean of the targets of a run of ties, which cancels to ≈ 1e-16 instead of 0.
    /// </summary>
    private static void Close(IReadOnlyList<float[]> ours, IReadOnlyList<double[]> onnx)
    {
        Assert.Equal(ours.Count, onnx.Count);
        for (int r = 0; r < ours.Count; r++)
        {
            Assert.Equal(ours[r].Length, onnx[r].Length);
            double scale = ours[r].Max(v => Math.Abs((double)v));
            for (int j = 0; j < ours[r].Length; j++)
            {
                double tolerance = 1e-6 * Math.Max(Math.Abs(ours[r][j]), 1e-6 * scale);
                Assert.True(Math.Abs(ours[r][j] - onnx[r][j]) <= tolerance, $"row {r} slot {j}: ours {ours[r][j]:R}, ONNX {onnx[r][j]:R}");
            }
        }
    }

    /// <summary>The model through ML.NET's ApplyOnnxModel on <paramref name="data"/>: the named outputs (ONNX names without ".output") as double rows.</summary>
    private static Dictionary<string, double[][]> Apply(MLContext ml, byte[] model, IDataView data, string[] inputs, params string[] outputs)
    {
        string path = Path.Combine(Path.GetTempPath(), $"perturbed-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, model);
            using var applied = ml.Transforms.ApplyOnnxModel(outputs.Select(o => o + ".output").ToArray(), inputs, path).Fit(data);
            IDataView scored = applied.Transform(data);
            // ApplyOnnxModel names its columns after the ONNX outputs without ML.NET's ".output" suffix.
            return outputs.ToDictionary(o => o, o => ((VectorDataViewType)scored.Schema[o].Type).ItemType.RawType == typeof(uint)
                ? scored.GetColumn<uint[]>(o).Select(r => r.Select(v => (double)v).ToArray()).ToArray()
                : scored.GetColumn<float[]>(o).Select(r => r.Select(v => (double)v).ToArray()).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Same(IReadOnlyList<float[]> ours, IReadOnlyList<double[]> onnx)
    {
        Assert.Equal(ours.Count, onnx.Count);
        for (int r = 0; r < ours.Count; r++) Assert.Equal(ours[r].Select(v => (double)v).ToArray(), onnx[r]);
    }

    private static float[][] Column(ITransformer model, IDataView data, string column) => model.Transform(data).GetColumn<float[]>(column).ToArray();

    private static bool HasTies(float[][] scores) => scores.Any(s => s.Distinct().Count() < s.Length);

    [Fact]
    public void Label_ranking_affine_and_mlp_match_the_transformer_ties_included()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = Rows(64, 1);
        IDataView data = Data(ml, rows);
        var label = new VectorDataViewType(NumberDataViewType.Single, 5);
        IScoreModel[] scoreModels =
        [
            Affine(P, 5, 2, tied: [3]),
            new MlpModel([Affine(P, 4, 3), Affine(4, 5, 4, tied: [2, 4])]),
        ];
        foreach (IScoreModel scores in scoreModels)
        {
            PerturbedPredictionTransformer model = Model(new RankingHead(), label, scores);
            byte[] onnx = Export(ml, model, data);
            Dictionary<string, double[][]> outputs = Run(onnx, ("Features", rows));
            float[][] theta = Column(model, data, "Score");
            Assert.True(HasTies(theta), "the test needs rows with tied scores");
            Close(theta, outputs["Score.output"]);
            Same(Column(model, data, "PredictedRanking"), outputs["PredictedRanking.output"]);
            Dictionary<string, double[][]> applied = Apply(ml, onnx, data, ["Features"], "Score", "PredictedRanking");
            Close(theta, applied["Score"]);
            Same(Column(model, data, "PredictedRanking"), applied["PredictedRanking"]);
            // The batch dimension is dynamic: one row at a time gives the same.
            Same([Column(model, data, "PredictedRanking")[5]], Run(onnx, ("Features", new[] { rows[5] }))["PredictedRanking.output"]);
        }
    }

    [Fact]
    public void Multiclass_scores_are_the_softmax_and_labels_the_first_maximum()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = Rows(64, 5);
        IDataView data = Data(ml, rows);
        PerturbedPredictionTransformer model = Model(new MulticlassHead(), new KeyDataViewType(typeof(uint), 4), Affine(P, 4, 6, tied: [2]), epsilon: 0.3);
        byte[] onnx = Export(ml, model, data);
        Dictionary<string, double[][]> outputs = Run(onnx, ("Features", rows));
        Close(Column(model, data, "Score"), outputs["Score.output"]);
        Dictionary<string, double[][]> applied = Apply(ml, onnx, data, ["Features"], "Score", "PredictedLabel");
        Close(Column(model, data, "Score"), applied["Score"]);
        uint[] labels = model.Transform(data).GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Contains(labels, l => l == 1);   // rows where classes 1 and 3 tie go to the first
        Assert.Equal(labels.Select(l => (double)l).ToArray(), outputs["PredictedLabel.output"].Select(r => Assert.Single(r)).ToArray());
        Assert.Equal(labels.Select(l => (double)l).ToArray(), applied["PredictedLabel"].Select(r => Assert.Single(r)).ToArray());
    }

    [Fact]
    public void Multiclass_with_normal_noise_is_refused()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml, Rows(4, 5));
        PerturbedPredictionTransformer model = Model(new MulticlassHead(), new KeyDataViewType(typeof(uint), 3), Affine(P, 3, 6), noise: NoiseDistribution.Normal);
        var e = Assert.Throws<NotSupportedException>(() => Export(ml, model, data));
        Assert.Contains("Monte-Carlo", e.Message);
        Assert.Contains("Gumbel", e.Message);
    }

    [Fact]
    public void Top_k_indicator_and_indices_match_ties_included()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = Rows(64, 7);
        IDataView data = Data(ml, rows);
        PerturbedPredictionTransformer model = Model(new TopKHead(2), new VectorDataViewType(NumberDataViewType.Single, 6), Affine(P, 6, 8, tied: [1, 2]));
        byte[] onnx = Export(ml, model, data);
        Dictionary<string, double[][]> outputs = Run(onnx, ("Features", rows));
        float[][] prediction = Column(model, data, "Prediction");
        Same(prediction, outputs["Prediction.output"]);
        Same(prediction, Apply(ml, onnx, data, ["Features"], "Prediction")["Prediction"]);
        Close(Column(model, data, "Score"), outputs["Score.output"]);
        for (int r = 0; r < rows.Length; r++)
        {
            double[] indices = outputs[TopKHead.OnnxIndicesOutputName][r];
            Assert.Equal(Enumerable.Range(0, 6).Where(i => prediction[r][i] == 1).Select(i => (double)i).ToArray(), indices.Order().ToArray());
        }
    }

    public static TheoryData<string> UnsupportedHeads => ["matching", "knapsack", "grid"];

    private static (PerturbedHead Head, int Size, string Downstream) Unsupported(string name) => name switch
    {
        "matching" => (new MatchingHead(3), 9, "linear_sum_assignment"),
        "knapsack" => (new KnapsackHead([1, 2, 3, 1], 3), 4, "KnapsackOracle"),
        "grid" => (new GridPathHead(3, 3), 9, "GridVertexShortestPathOracle"),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown head."),
    };

    [Theory]
    [MemberData(nameof(UnsupportedHeads))]
    public void Heads_onnx_cannot_decode_fail_naming_the_downstream_step_or_export_scores_only(string name)
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = Rows(16, 9);
        IDataView data = Data(ml, rows);
        (PerturbedHead head, int size, string downstream) = Unsupported(name);
        PerturbedPredictionTransformer model = Model(head, new VectorDataViewType(NumberDataViewType.Single, size), Affine(P, size, 10));
        var e = Assert.Throws<NotSupportedException>(() => Export(ml, model, data));
        Assert.Contains(downstream, e.Message);
        Assert.Contains(nameof(PerturbedOnnxExportOptions.ScoresOnly), e.Message);
        // ML.NET's own converter goes through the same path and fails the same way, instead of writing an empty model.
        using var stream = new MemoryStream();
        Exception plain = Assert.ThrowsAny<Exception>(() => ml.Model.ConvertToOnnx(model, data, stream));
        Assert.Contains(downstream, (plain as NotSupportedException ?? plain.InnerException)?.Message);

        byte[] scores = Export(ml, model, data, new PerturbedOnnxExportOptions { ScoresOnly = true });
        Assert.DoesNotContain("Prediction.output", MlNetOnnx.Describe(scores).Outputs);
        Close(Column(model, data, "Score"), Run(scores, ("Features", rows))["Score.output"]);
    }

    [Fact]
    public void Plain_ConvertToOnnx_writes_the_model_not_its_outputs_as_inputs()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = Rows(32, 11);
        IDataView data = Data(ml, rows);
        PerturbedPredictionTransformer model = Model(new RankingHead(), new VectorDataViewType(NumberDataViewType.Single, 4), Affine(P, 4, 12, tied: [1]));
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        byte[] onnx = stream.ToArray();
        OnnxChecker.Check(onnx);
        Assert.Equal(["Features"], MlNetOnnx.Describe(onnx).Inputs);
        Assert.Equal(MlNetOnnx.ConverterOpset, MlNetOnnx.Describe(onnx).Opsets[""]);
        Same(Column(model, data, "PredictedRanking"), Run(onnx, ("Features", rows))["PredictedRanking.output"]);
    }

    [Fact]
    public void Hard_sorting_transforms_match_ties_included_and_soft_ones_are_refused()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = Rows(64, 13);
        IDataView data = Data(ml, rows);
        Assert.True(HasTies(rows));
        IEstimator<ITransformer>[] hard =
        [
            ml.Transforms.SoftRank("Out", "Features", epsilon: 0),
            ml.Transforms.SoftRank("Out", "Features", epsilon: 0, SortDirection.Descending, SoftRankingMethod.PermutahedronKL),
            ml.Transforms.SoftSort("Out", "Features", epsilon: 0),
            ml.Transforms.SoftSort("Out", "Features", epsilon: 0, SortDirection.Descending),
            ml.Transforms.QuantileNormalize("Out", "Features"),
            ml.Transforms.QuantileNormalize("Out", "Features", QuantileTarget.Normal),
            ml.Transforms.KendallEmbedding("Out", "Features"),
        ];
        foreach (IEstimator<ITransformer> estimator in hard)
        {
            ITransformer model = estimator.Fit(data);
            byte[] onnx = Export(ml, model, data);
            Close(Column(model, data, "Out"), Run(onnx, ("Features", rows))["Out.output"]);
            Close(Column(model, data, "Out"), Apply(ml, onnx, data, ["Features"], "Out")["Out"]);
        }
        foreach (IEstimator<ITransformer> soft in new[] { ml.Transforms.SoftRank("Out", "Features", epsilon: 0.5), ml.Transforms.SoftSort("Out", "Features", 0.1, method: SoftRankingMethod.Sinkhorn) })
        {
            var e = Assert.Throws<NotSupportedException>(() => Export(ml, soft.Fit(data), data));
            Assert.Contains("no exact ONNX form", e.Message);
        }
    }

    private sealed class Raw
    {
        public float A { get; set; }
        public float[] B { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    [Fact]
    public void A_pipeline_with_mlnet_transforms_in_front_exports_to_one_file_that_ApplyOnnxModel_runs()
    {
        var ml = new MLContext(seed: 1);
        var rng = new System.Random(3);
        Raw[] raw = Enumerable.Range(0, 200).Select(_ =>
        {
            float a = (float)rng.NextDouble();
            float[] b = Enumerable.Range(0, 4).Select(_ => (float)(rng.NextDouble() * 10)).ToArray();
            double[] score = [a + b[0], b[1] - b[2], b[3] * 0.5, 1];
            float[] ranks = new float[4];
            int[] order = Enumerable.Range(0, 4).OrderByDescending(i => score[i]).ToArray();
            for (int k = 0; k < 4; k++) ranks[order[k]] = k + 1;
            return new Raw { A = a, B = b, Label = ranks };
        }).ToArray();
        var definition = SchemaDefinition.Create(typeof(Raw));
        definition["B"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        IDataView data = ml.Data.LoadFromEnumerable(raw, definition);
        var pipeline = ml.Transforms.Concatenate("Features", "A", "B")
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.LabelRanking().Trainers.PerturbedFenchelYoung(numberOfIterations: 3));
        ITransformer model = pipeline.Fit(data);
        byte[] onnx = Export(ml, model, data);
        Assert.Contains("A", MlNetOnnx.Describe(onnx).Inputs);

        float[][] a = raw.Select(r => new[] { r.A }).ToArray(), b = raw.Select(r => r.B).ToArray(), labels = raw.Select(r => r.Label).ToArray();
        Dictionary<string, double[][]> outputs = Run(onnx, ("A", a), ("B", b), ("Label", labels));
        Close(Column(model, data, "Score"), outputs["Score.output"]);
        Same(Column(model, data, "PredictedRanking"), outputs["PredictedRanking.output"]);

        // The same file through ML.NET's ApplyOnnxModel on the raw columns.
        Dictionary<string, double[][]> applied = Apply(ml, onnx, data, ["A", "B", "Label"], "Score", "PredictedRanking");
        Close(Column(model, data, "Score"), applied["Score"]);
        Same(Column(model, data, "PredictedRanking"), applied["PredictedRanking"]);
    }

    [Fact]
    public void Out_of_range_opset_is_refused_naming_the_option()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml, Rows(4, 1));
        PerturbedPredictionTransformer model = Model(new RankingHead(), new VectorDataViewType(NumberDataViewType.Single, 3), Affine(P, 3, 1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Model.ExportToOnnx(model, data, new MemoryStream(), new PerturbedOnnxExportOptions { OpsetVersion = 18 }));
        Assert.Contains(nameof(PerturbedOnnxExportOptions.OpsetVersion), e.Message);
        byte[] twelve = Export(ml, model, data, new PerturbedOnnxExportOptions { OpsetVersion = 12 });
        Assert.NotEmpty(twelve);
    }
}
