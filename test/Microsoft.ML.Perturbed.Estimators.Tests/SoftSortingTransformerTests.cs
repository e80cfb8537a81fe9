using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Sorting;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Sorting;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

public class SoftSortingTransformerTests
{
    private const int N = 5;

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public float[] Other { get; set; } = [];
    }

    private sealed class Ranked
    {
        public float[] Ranks { get; set; } = [];
    }

    private static readonly float[][] Rows =
    [
        [0.5f, -2f, 3f, 1f, 0.25f],
        [5f, 1f, 2f, 2f, -1f],
        [10f, 20f, 30f, 40f, 50f],
    ];

    private static IDataView Data(MLContext ml, float[][]? rows = null, bool slotNames = true)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, N);
        definition["Other"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, N);
        if (slotNames)
        {
            var names = new VBuffer<ReadOnlyMemory<char>>(N, Enumerable.Range(0, N).Select(i => $"label{i}".AsMemory()).ToArray());
            definition["Features"].AddAnnotation("SlotNames", names, new VectorDataViewType(TextDataViewType.Instance, N));
        }
        return ml.Data.LoadFromEnumerable((rows ?? Rows).Select(r => new Row { Features = r, Other = r.Select(v => -v).ToArray() }), definition);
    }

    private static float[][] Column(IDataView view, string name) => view.GetColumn<float[]>(name).ToArray();

    private static float[] Expected(Layer op, float[] row)
    {
        var y = new float[op.OutputDimension];
        op.Forward(row, y);
        return y;
    }

    [Fact]
    public void SoftRank_matches_the_core_operator_carries_slot_names_and_keeps_other_columns()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        SoftSortingTransformer model = ml.Transforms.SoftRank("Ranks", "Features", epsilon: 0.5).Fit(data);
        IDataView output = model.Transform(data);
        var op = new SoftRank(N, 0.5);
        float[][] ranks = Column(output, "Ranks");
        for (int r = 0; r < Rows.Length; r++) Assert.Equal(Expected(op, Rows[r]), ranks[r]);
        Assert.Equal(Column(data, "Other"), Column(output, "Other"));
        VBuffer<ReadOnlyMemory<char>> names = default;
        output.Schema["Ranks"].GetSlotNames(ref names);
        Assert.Equal("label3", names.GetValues()[3].ToString());
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, N), output.Schema["Ranks"].Type);
    }

    [Fact]
    public void Several_column_pairs_in_one_transform_and_every_method_runs()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        foreach (SoftRankingMethod method in Enum.GetValues<SoftRankingMethod>())
        {
            double eps = method == SoftRankingMethod.Sinkhorn ? 0.05 : 0.3;
            SoftSortingTransformer model = ml.Transforms.SoftSort([new("SortedA", "Features"), new("SortedB", "Other")], eps, method: method).Fit(data);
            IDataView output = model.Transform(data);
            Layer op = SoftRanking.CreateSort(N, new SoftRankingOptions { Method = method, Epsilon = eps, MaxDegreeOfParallelism = 1 });
            float[][] a = Column(output, "SortedA"), b = Column(output, "SortedB");
            for (int r = 0; r < Rows.Length; r++)
            {
                Assert.Equal(Expected(op, Rows[r]), a[r]);
                Assert.Equal(Expected(op, Rows[r].Select(v => -v).ToArray()), b[r]);
            }
            Assert.False(output.Schema["SortedA"].HasSlotNames());   // sorted positions are not the input's slots
        }
    }

    [Fact]
    public void Hard_quantile_normalization_puts_target_quantiles_in_each_rows_order()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        IDataView output = ml.Transforms.QuantileNormalize("Normalized", "Features").Fit(data).Transform(data);
        double[] uniform = QuantileTargets.Uniform(N);
        float[][] normalized = Column(output, "Normalized");
        // Row 0 = [0.5, −2, 3, 1, 0.25]: ranks 3, 1, 5, 4, 2.
        Assert.Equal(new[] { uniform[2], uniform[0], uniform[4], uniform[3], uniform[1] }.Select(v => (float)v), normalized[0]);
        // Row 1 has a tie (2, 2): both get the mean of their two targets.
        Assert.Equal((float)((uniform[2] + uniform[3]) / 2), normalized[1][2]);
        Assert.Equal(normalized[1][2], normalized[1][3]);
    }

    [Fact]
    public void Learned_targets_are_the_mean_sorted_row_and_are_saved_with_the_model()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        SoftSortingTransformer model = ml.Transforms.QuantileNormalize("Normalized", "Features", QuantileTarget.Learned).Fit(data);
        double[] expected = Enumerable.Range(0, N).Select(k => Rows.Average(r => (double)r.Order().ElementAt(k))).ToArray();
        Assert.Equal(expected, model.GetTargets("Normalized"));
        string path = Path.Combine(Path.GetTempPath(), $"qn-{Guid.NewGuid():N}.zip");
        ml.Model.Save(model, data.Schema, path);
        var fresh = new MLContext(seed: 2);
        fresh.ComponentCatalog.RegisterPerturbed();
        var loaded = (SoftSortingTransformer)fresh.Model.Load(path, out _);
        Assert.Equal(expected, loaded.GetTargets("Normalized"));
        Assert.Equal(Column(model.Transform(data), "Normalized"), Column(loaded.Transform(Data(fresh)), "Normalized"));
        File.Delete(path);
    }

    public static TheoryData<string> Pipelines => new() { "rank-kl", "sort-sinkhorn", "qn-normal-soft", "rank-perturbed", "chain" };

    private static IEstimator<ITransformer> Pipeline(MLContext ml, string name) => name switch
    {
        "rank-kl" => ml.Transforms.SoftRank("Out", "Features", 0.7, SortDirection.Descending, SoftRankingMethod.PermutahedronKL),
        "sort-sinkhorn" => ml.Transforms.SoftSort("Out", "Features", 0.02, method: SoftRankingMethod.Sinkhorn),
        "qn-normal-soft" => ml.Transforms.QuantileNormalize("Out", "Features", QuantileTarget.Normal, epsilon: 0.3),
        "rank-perturbed" => ml.Transforms.SoftRank(new SoftSortingOptions { Columns = [new("Out", "Features")], Method = SoftRankingMethod.Perturbed, Epsilon = 0.4, Samples = 50, Seed = 9 }),
        _ => ml.Transforms.SoftRank("Ranks", "Features", 0.5).Append(ml.Transforms.SoftSort("Out", "Ranks", 0.5)),
    };

    [Theory]
    [MemberData(nameof(Pipelines))]
    public void Saved_models_load_in_a_fresh_context_as_themselves_with_identical_outputs(string name)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        ITransformer model = Pipeline(ml, name).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext(seed: 7);
        fresh.ComponentCatalog.RegisterPerturbed();
        ITransformer loaded = fresh.Model.Load(stream, out DataViewSchema schema);
        if (loaded is TransformerChain<ITransformer> chain)
        {
            // ML.NET reloads every chain as TransformerChain<ITransformer>; its elements must come back as themselves.
            Assert.Equal(2, chain.Count());
            Assert.All(chain, t => Assert.IsType<SoftSortingTransformer>(t));
        }
        else
        {
            Assert.Equal(model.GetType(), loaded.GetType());
        }
        Assert.Equal(data.Schema["Features"].Type, schema["Features"].Type);
        Assert.Equal(Column(model.Transform(data), "Out"), Column(loaded.Transform(Data(fresh)), "Out"));
    }

    [Fact]
    public void Saved_model_loads_in_a_fresh_process_with_identical_outputs()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        SoftSortingTransformer model = ml.Transforms.SoftRank("Ranks", "Features", 0.5, method: SoftRankingMethod.PermutahedronKL).Fit(data);
        AssertFreshProcessOutputs(ml, model, data, "Ranks", Rows);
    }

    /// <summary>
    /// Saves <paramref name="model"/>, loads it in a new process (test/ModelLoadProbe) on <paramref name="rows"/> given as
    /// a "Features" column, and checks that <paramref name="column"/> comes out identical, bit for bit.
    /// </summary>
    internal static void AssertFreshProcessOutputs(MLContext ml, ITransformer model, IDataView data, string column, float[][] rows)
    {
        string path = Path.Combine(Path.GetTempPath(), $"model-{Guid.NewGuid():N}.zip");
        ml.Model.Save(model, data.Schema, path);
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { ProbePath(), path, column, rows.Length.ToString(CultureInfo.InvariantCulture), rows[0].Length.ToString(CultureInfo.InvariantCulture) }
                .Concat(rows.SelectMany(r => r).Select(v => v.ToString("R", CultureInfo.InvariantCulture))))
            {
                start.ArgumentList.Add(arg);
            }
            using Process process = Process.Start(start)!;
            string stdout = process.StandardOutput.ReadToEnd();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, stderr);
            string[] lines = stdout.Trim().Split('\n');
            Assert.StartsWith("transformer: ", lines[^1].Trim());
            float[][] expected = model.Transform(data).GetColumn<float[]>(column).ToArray();
            for (int r = 0; r < rows.Length; r++)
            {
                Assert.Equal(expected[r], lines[r].Trim().Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string ProbePath()
    {
        string dir = AppContext.BaseDirectory;
        string configuration = dir.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var root = new DirectoryInfo(dir);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Microsoft.ML.Perturbed.slnx"))) root = root.Parent;
        Assert.NotNull(root);
        string probe = Path.Combine(root!.FullName, "test", "ModelLoadProbe", "bin", configuration, "net10.0", "ModelLoadProbe.dll");
        Assert.True(File.Exists(probe), $"the probe was not built: {probe}");
        return probe;
    }

    [Fact]
    public void Prediction_engine_uses_the_row_to_row_mapper()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml, slotNames: false);
        SoftSortingTransformer model = ml.Transforms.SoftRank("Ranks", "Features", 0).Fit(data);
        var engine = ml.Model.CreatePredictionEngine<Row, Ranked>(model, inputSchemaDefinition: SizedDefinition());
        Assert.Equal(new float[] { 3, 1, 5, 4, 2 }, engine.Predict(new Row { Features = Rows[0], Other = Rows[0] }).Ranks);
    }

    private static SchemaDefinition SizedDefinition()
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, N);
        definition["Other"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, N);
        return definition;
    }

    [Fact]
    public void Schema_errors_use_ml_net_wording_and_name_the_column()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SoftRank("R", "Nope").Fit(data));
        Assert.Contains("Could not find input column 'Nope'", missing.Message);
        Assert.Contains("Could not find input column 'Nope'",
            Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SoftRank("R", "Nope").GetOutputSchema(ModelPersistence.MlNetInternals.ShapeOf(data.Schema))).Message);

        IDataView text = ml.Data.LoadFromEnumerable(new[] { new { Features = "a" } });
        Assert.Contains("Schema mismatch for input column 'Features': expected known-size vector of Single",
            Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SoftRank("R", "Features").Fit(text)).Message);
        IDataView variable = ml.Data.LoadFromEnumerable(new[] { new Row { Features = [1, 2], Other = [1] } });
        Assert.Contains("Schema mismatch for input column 'Features'",
            Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SoftRank("R", "Features").Fit(variable)).Message);

        SoftSortingTransformer model = ml.Transforms.SoftRank("R", "Features").Fit(data);
        IDataView wider = ml.Data.LoadFromEnumerable(new[] { new Row { Features = [1, 2, 3, 4, 5, 6], Other = [1] } }, WideDefinition());
        Assert.Contains("expected Vector<Single, 5>", Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(wider)).Message);
    }

    private static SchemaDefinition WideDefinition()
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 6);
        definition["Other"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1);
        return definition;
    }

    [Fact]
    public void Non_finite_values_throw_naming_the_column_row_and_slot_never_NaN_output()
    {
        var ml = new MLContext(seed: 1);
        IDataView bad = Data(ml, [[1, 2, 3, 4, 5], [1, float.NaN, 3, 4, 5]]);
        IDataView output = ml.Transforms.SoftRank("R", "Features").Fit(Data(ml)).Transform(bad);
        var e = Assert.Throws<InvalidOperationException>(() => Column(output, "R"));
        Assert.Contains("Column 'Features' holds NaN at row 1, slot 1", e.Message);
        var learn = Assert.Throws<InvalidOperationException>(() => ml.Transforms.QuantileNormalize("Q", "Features", QuantileTarget.Learned).Fit(bad));
        Assert.Contains("row 1, slot 1", learn.Message);
    }

    [Fact]
    public void Bad_options_and_empty_training_data_throw()
    {
        var ml = new MLContext(seed: 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SoftRank("R", "Features", epsilon: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SoftRank("R", "Features", epsilon: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SoftRank("R", "Features", epsilon: 0, method: SoftRankingMethod.Sinkhorn));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.QuantileNormalize(new SoftSortingOptions { Columns = [new("Q", "Features")], Method = SoftRankingMethod.Perturbed }));
        Assert.Throws<ArgumentException>(() => ml.Transforms.SoftRank(new SoftSortingOptions()));
        Assert.Throws<ArgumentException>(() => ml.Transforms.QuantileNormalize(new SoftSortingOptions { Columns = [new("Q", "Features")], Target = QuantileTarget.Custom }));
        var empty = Assert.Throws<InvalidOperationException>(() => ml.Transforms.QuantileNormalize("Q", "Features", QuantileTarget.Learned).Fit(Data(ml, [])));
        Assert.Contains("no rows", empty.Message);
    }

    [Fact]
    public void Truncated_or_corrupt_model_zips_fail_clearly()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        SoftSortingTransformer model = ml.Transforms.SoftRank("R", "Features").Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        byte[] bytes = stream.ToArray();

        var truncated = new MemoryStream(bytes[..(bytes.Length / 2)]);
        Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(truncated, out _));

        // Corrupt our payload: the operation code just after the 256-byte model header.
        var corrupt = new MemoryStream();
        corrupt.Write(bytes);
        using (var zip = new ZipArchive(corrupt, ZipArchiveMode.Update, leaveOpen: true))
        {
            ZipArchiveEntry entry = zip.GetEntry("TransformerChain/Model.key")!;
            byte[] key;
            using (Stream s = entry.Open())
            using (var copy = new MemoryStream())
            {
                s.CopyTo(copy);
                key = copy.ToArray();
            }
            BitConverter.GetBytes(99).CopyTo(key, 0x100);
            entry.Delete();
            using Stream w = zip.CreateEntry("TransformerChain/Model.key").Open();
            w.Write(key);
        }
        corrupt.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        Exception e = Assert.ThrowsAny<Exception>(() => fresh.Model.Load(corrupt, out _));
        Assert.Contains("corrupt", Flatten(e));
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : e.Message + " | " + Flatten(e.InnerException);

    [Fact]
    public void A_fresh_context_loads_our_models_without_registration()
    {
        // ML.NET finds our loaders through the [LoadableClass] attributes of the assembly the model header names.
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        var model = ml.Transforms.SoftRank("R", "Features").Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = new MLContext().Model.Load(stream, out _);
        Assert.Equal(Column(model.Transform(data), "R"), Column(loaded.Transform(data), "R"));
    }

    [Fact]
    public void Sinkhorn_that_stops_at_its_iteration_cap_warns_in_the_context_log()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var capped = ml.Transforms.SoftRank(new SoftSortingOptions
        {
            Columns = [new("Ranks", "Features")], Method = SoftRankingMethod.Sinkhorn, Epsilon = 1e-3, MaxIterations = 2, Tolerance = 1e-9,
        }).Fit(Data(ml));
        _ = Column(capped.Transform(Data(ml)), "Ranks");
        Assert.Contains(messages, m => m.Contains("Sinkhorn stopped at its cap of 2 iterations") && m.Contains("'Ranks'"));
        messages.Clear();
        var fine = ml.Transforms.SoftRank(new SoftSortingOptions { Columns = [new("Ranks", "Features")], Method = SoftRankingMethod.Sinkhorn, Epsilon = 0.1, MaxIterations = 10_000 }).Fit(Data(ml));
        _ = Column(fine.Transform(Data(ml)), "Ranks");
        Assert.DoesNotContain(messages, m => m.Contains("Sinkhorn stopped"));
    }
}
