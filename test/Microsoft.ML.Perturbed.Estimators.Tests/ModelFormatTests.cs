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
            foreach (string name in ModelFormatFixtures.Names) data.Add(format, name);
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
}
