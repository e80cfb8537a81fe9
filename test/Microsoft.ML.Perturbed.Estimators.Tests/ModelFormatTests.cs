using System.IO.Compression;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.Structured;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>Model files written by earlier formats load with today's code and give the outputs they gave when saved.</summary>
public class ModelFormatTests
{
    private static string FixtureRoot => Path.Combine(AppContext.BaseDirectory, "Fixtures", "ModelFormats");

    public static TheoryData<string, string> Fixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (string format in Directory.GetDirectories(FixtureRoot).Select(d => Path.GetFileName(d)!).Order())
        {
            // A folder holds the fixtures its commit had (the matching fixture exists since commit de97d0a).
            foreach (string name in ModelFormatFixtures.Names.Where(n => File.Exists(Path.Combine(FixtureRoot, format, n + ".zip")))) data.Add(format, name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void A_model_saved_by_an_earlier_format_loads_and_predicts_as_it_did(string format, string name)
    {
        string folder = Path.Combine(FixtureRoot, format);
        var ml = new MLContext(seed: 1);
        ITransformer model = ml.Model.Load(Path.Combine(folder, name + ".zip"), out _);
        string expected = File.ReadAllText(Path.Combine(folder, name + ".outputs.txt"));
        Assert.Equal(expected, ModelFormatFixtures.Describe(model, ModelFormatFixtures.Data(ml), name));
    }

    [Theory]
    [InlineData("26a5a53")]
    [InlineData("de97d0a")]
    public void A_label_ranking_model_saved_as_a_LabelRankingTransformer_loads_as_the_one_transformer_and_predicts_as_it_did(string format)
    {
        // Up to this version label-ranking models were LabelRankingTransformer; their zips name the 'PerturbedPrediction'
        // loader, which now gives the one transformer of every head but multiclass.
        string folder = Path.Combine(FixtureRoot, format);
        var ml = new MLContext(seed: 1);
        ITransformer model = ml.Model.Load(Path.Combine(folder, "label_ranking.zip"), out _);
        var loaded = Assert.IsType<PerturbedPredictionTransformer>(model);   // the exact type, no subclass
        Assert.Equal("Ranking", loaded.HeadModel.Name);
        string expected = File.ReadAllText(Path.Combine(folder, "label_ranking.outputs.txt"));
        Assert.Equal(expected, ModelFormatFixtures.Describe(model, ModelFormatFixtures.Data(ml), "label_ranking"));
    }

    [Theory]
    [InlineData("26a5a53", "top_k", "TopK")]
    [InlineData("de97d0a", "top_k", "TopK")]
    [InlineData("de97d0a", "matching", "Matching")]
    public void A_top_k_or_matching_model_saved_as_a_StructuredPredictionTransformer_loads_as_the_one_transformer_and_evaluates_as_it_did(string format, string name, string head)
    {
        // Up to commit de97d0a top-k and matching models were StructuredPredictionTransformer; their zips name the
        // 'PerturbedPrediction' loader, which now gives the one transformer of every structured head.
        string folder = Path.Combine(FixtureRoot, format);
        var ml = new MLContext(seed: 1);
        ITransformer model = ml.Model.Load(Path.Combine(folder, name + ".zip"), out _);
        var loaded = Assert.IsType<PerturbedPredictionTransformer>(model);   // the exact type, no subclass
        Assert.Equal(head, loaded.HeadModel.Name);
        IDataView data = ModelFormatFixtures.Data(ml);
        string expected = File.ReadAllText(Path.Combine(folder, name + ".outputs.txt"));
        Assert.Equal(expected, ModelFormatFixtures.Describe(model, data, name));
        // The evaluators read its output: their metrics are those of the predictions saved with the fixture.
        string label = name == "top_k" ? "Top" : "Assignment";
        float[][] labels = data.GetColumn<float[]>(label).ToArray();
        float[][] saved = expected.Split('\n').Where(l => l.StartsWith("Prediction ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(':') + 2)..].Split(' ').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(labels.Length, saved.Length);
        IDataView scored = model.Transform(data);
        double exact = labels.Zip(saved).Count(p => p.First.SequenceEqual(p.Second)) / (double)labels.Length;
        if (name == "top_k")
        {
            TopKMetrics metrics = ml.StructuredPrediction().EvaluateTopK(scored, label);
            double precision = labels.Zip(saved).Average(p => p.First.Zip(p.Second).Count(q => q.First == 1 && q.Second == 1) / (double)p.Second.Count(v => v == 1));
            Assert.Equal((precision, exact, 12L), (metrics.PrecisionAtK, metrics.ExactSetMatch, metrics.Rows));
        }
        else
        {
            MatchingMetrics metrics = ml.StructuredPrediction().EvaluateMatching(scored, label);
            double wrong = labels.Zip(saved).Average(p => p.First.Zip(p.Second).Count(q => q.First == 1 && q.Second != 1) / 3.0);
            Assert.Equal((wrong, 1 - exact, 12L), (metrics.WrongPositions, metrics.AnyError, metrics.Rows));
        }
    }

    [Fact]
    public void The_fixtures_of_the_current_format_can_be_written_on_request()
    {
        // PERTURBED_WRITE_MODEL_FIXTURES=<folder> writes the fixtures of the code under test (before a format change).
        string? requested = Environment.GetEnvironmentVariable("PERTURBED_WRITE_MODEL_FIXTURES") is { Length: > 0 } r ? r : null;
        string folder = requested ?? Directory.CreateTempSubdirectory("perturbed-fixtures-").FullName;
        ModelFormatFixtures.Write(folder);
        foreach (string name in ModelFormatFixtures.Names)
        {
            var ml = new MLContext(seed: 1);
            ITransformer model = ml.Model.Load(Path.Combine(folder, name + ".zip"), out _);
            Assert.Equal(File.ReadAllText(Path.Combine(folder, name + ".outputs.txt")), ModelFormatFixtures.Describe(model, ModelFormatFixtures.Data(ml), name));
        }
        if (requested is null) Directory.Delete(folder, recursive: true);
    }

    /// <summary>
    /// A copy of a fixture whose perturbed component's header says another model signature, loader signature and format
    /// versions (the header sits outside the checksummed payload): a model as another version of the library saved it.
    /// </summary>
    private static MemoryStream Patched(string name, string? modelSignature, string? loaderSignature, uint written, uint readable)
    {
        var stream = new MemoryStream();
        using (FileStream file = File.OpenRead(Path.Combine(FixtureRoot, "26a5a53", name + ".zip"))) file.CopyTo(stream);
        int patched = 0;
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            foreach (ZipArchiveEntry entry in zip.Entries.Where(e => e.Name == "Model.key").ToList())
            {
                byte[] bytes;
                using (var read = new MemoryStream()) { using (Stream s = entry.Open()) s.CopyTo(read); bytes = read.ToArray(); }
                // ML.NET's header: model signature (8 bytes) at 0x40, format written and readable (uint32), loader signature (24 bytes).
                string signature = Encoding.ASCII.GetString(bytes, 0x40, 8);
                if (signature is not ("PRTBPRED" or "PRTBSORT")) continue;
                if (modelSignature is not null) Encoding.ASCII.GetBytes(modelSignature).CopyTo(bytes, 0x40);
                BitConverter.GetBytes(written).CopyTo(bytes, 0x48);
                BitConverter.GetBytes(readable).CopyTo(bytes, 0x4C);
                if (loaderSignature is not null)
                {
                    Array.Clear(bytes, 0x50, 24);
                    Encoding.ASCII.GetBytes(loaderSignature).CopyTo(bytes, 0x50);
                }
                using Stream w = entry.Open();
                w.SetLength(0);
                w.Write(bytes);
                patched++;
            }
        }
        Assert.Equal(1, patched);
        stream.Position = 0;
        return stream;
    }

    private static string LoadFailure(Stream model)
    {
        var ml = new MLContext(seed: 1);
        Exception e = Assert.ThrowsAny<Exception>(() => ml.Model.Load(model, out _));
        while (e is not FormatException && e.InnerException is not null) e = e.InnerException;
        Assert.IsType<FormatException>(e);
        return e.Message;
    }

    [Fact]
    public void A_newer_format_is_refused_naming_the_component_the_format_and_the_versions_that_read_it()
    {
        string message = LoadFailure(Patched("label_ranking", null, null, written: 0x00010007, readable: 0x00010005));
        Assert.Contains("perturbed predictor ('PerturbedPrediction')", message);
        Assert.Contains("0x00010007", message);
        Assert.Contains("needs a reader of format 0x00010005", message);
        Assert.Contains("reads formats 0x00010001 to 0x00010002", message);
        Assert.DoesNotContain("ML.NET 1.0.0.0", message);
    }

    [Fact]
    public void A_format_no_longer_read_is_refused_naming_the_library_that_reads_it()
    {
        string message = LoadFailure(Patched("soft_rank", null, null, written: 0x00010001, readable: 0x00010001));
        Assert.Contains("soft sorting transform ('PerturbedSoftSorting')", message);
        Assert.Contains("format version 0x00010001", message);
        Assert.Contains("before commit e211de1", message);
        Assert.Contains("reads formats 0x00010002 to 0x00010003", message);
    }

    [Theory]
    [InlineData("PRTBLRNK", "PerturbedLabelRanking", "label-ranking predictor")]
    [InlineData("PRTBMCLS", "PerturbedMulticlass", "multiclass predictor")]
    [InlineData("PRTBSTRC", "PerturbedStructured", "structured predictor")]
    public void A_retired_component_is_refused_naming_it_and_the_library_that_reads_it(string signature, string loader, string component)
    {
        string message = LoadFailure(Patched(loader == "PerturbedMulticlass" ? "multiclass" : "label_ranking", signature, loader, written: 0x00010002, readable: 0x00010002));
        Assert.Contains($"{component} ('{loader}')", message);
        Assert.Contains("format version 0x00010002", message);
        Assert.Contains("before commit 6ede5a7", message);
        Assert.Contains("'PerturbedPrediction' models", message);
    }

    [Fact]
    public void The_current_format_names_the_library_that_wrote_it()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ModelFormatFixtures.Data(ml);
        using var stream = new MemoryStream();
        ml.Model.Save(ModelFormatFixtures.Train(ml, "label_ranking", data), data.Schema, stream);
        stream.Position = 0;
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
        using var model = new MemoryStream();
        using (Stream s = zip.Entries.Single(e => e.Name == "Model.key").Open()) s.CopyTo(model);
        byte[] bytes = model.ToArray();
        Assert.Equal("PRTBPRED", Encoding.ASCII.GetString(bytes, 0x40, 8));
        Assert.Equal(0x00010002u, BitConverter.ToUInt32(bytes, 0x48));
        string version = typeof(PerturbedCatalog).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];
        // The payload (after the 0x100-byte header and its length) starts with the version, as a length-prefixed string.
        Assert.True(bytes.AsSpan(0x100).IndexOf(Encoding.UTF8.GetBytes(version)) is > 0 and < 16, $"library version {version} not at the payload's start");
    }

    [Fact]
    public void LoadChecked_reports_a_refusal_as_itself_and_a_damaged_loader_assembly_name_as_a_corrupt_model()
    {
        var ml = new MLContext(seed: 1);
        // A refusal of our loader: ML.NET's Load wraps it, LoadChecked gives it as itself.
        var newer = Assert.Throws<FormatException>(() => ml.Model.LoadChecked(Patched("label_ranking", null, null, written: 0x00010007, readable: 0x00010005), out _));
        Assert.Contains("0x00010007", newer.Message);
        // One character of the loader assembly's name in ML.NET's header changed.
        var stream = new MemoryStream();
        using (FileStream file = File.OpenRead(Path.Combine(FixtureRoot, "26a5a53", "label_ranking.zip"))) file.CopyTo(stream);
        int damaged = 0;
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            foreach (ZipArchiveEntry entry in zip.Entries.Where(e => e.Name == "Model.key").ToList())
            {
                byte[] bytes;
                using (var read = new MemoryStream()) { using (Stream s = entry.Open()) s.CopyTo(read); bytes = read.ToArray(); }
                // ML.NET's header keeps the loader assembly's name in UTF-16.
                int at = bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes("Microsoft.ML.Perturbed.Estimators"));
                if (at < 0) continue;
                bytes[at + 2 * "Microsoft.ML.".Length] = (byte)'Q';   // "Microsoft.ML.Qerturbed.Estimators"
                using Stream w = entry.Open();
                w.SetLength(0);
                w.Write(bytes);
                damaged++;
            }
        }
        Assert.True(damaged > 0, "no loader assembly name found in the model's headers");
        stream.Position = 0;
        var corrupt = Assert.Throws<FormatException>(() => ml.Model.LoadChecked(stream, out _));
        Assert.Contains("corrupt or was not written by ML.NET", corrupt.Message);
    }
}
