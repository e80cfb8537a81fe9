using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The three packages as a new user gets them: packed (from this build) into a local feed, then a fresh console app
/// restores, builds, runs and publishes (portable, and for linux-x64) against them with only <c>using Microsoft.ML;</c>,
/// and a second app adds the TorchSharp package with the CPU libtorch it chooses and trains through the TorchSharp backend.
/// The packages are packed for the ML.NET of this build (-p:MlNetVersion); the app reports the ML.NET it ran. On ML.NET 5
/// one more app brings ML.NET 6 through Microsoft.ML.FastTree 6.0.0 (warnings as errors): the ML.NET 5 build runs on 6.
/// The app's package folder is its own (the machine's is only a fallback), so no run sees an earlier run's packages.
/// </summary>
public class ConsumerProjectTests(ITestOutputHelper output)
{
    private const string Version = "0.0.0-consumer";

    // Both apps' data: 90 rows of 3 features, a digit label and a rank vector (the class Row comes at the end of each app).
    private const string Data = """
        using Microsoft.ML;
        using Microsoft.ML.Data;

        var ml = new MLContext(seed: 1);
        var rng = new Random(1);
        var rows = Enumerable.Range(0, 90).Select(i => new Row
        {
            Features = Enumerable.Range(0, 3).Select(j => (j == i % 3 ? 3f : 0f) + (float)rng.NextDouble()).ToArray(),
            Digit = 10 + i % 3,
            Ranks = (i % 3) switch { 0 => [1f, 2, 3], 1 => [3f, 1, 2], _ => [2f, 3, 1] },
        }).ToList();
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        definition["Ranks"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        IDataView data = ml.Data.LoadFromEnumerable(rows, definition);

        """;

    private const string RowClass = """

        class Row { public float[] Features { get; set; } = []; public float Digit { get; set; } public float[] Ranks { get; set; } = []; }
        """;

    private const string Program = Data + """
        var ranker = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { LabelColumnName = "Ranks", NumberOfIterations = 30 }).Fit(data);
        Console.WriteLine($"spearman {ml.LabelRanking().Evaluate(ranker.Transform(data), labelColumnName: "Ranks").Spearman:F2}");

        var classifier = ml.Transforms.Conversion.MapValueToKey("Label", "Digit")
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 20))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel")).Fit(data);
        var predicted = ml.Data.CreateEnumerable<Prediction>(classifier.Transform(data), reuseRowObject: false).ToList();
        Console.WriteLine($"digits {rows.Zip(predicted).Count(p => p.First.Digit == p.Second.PredictedDigit)} of {rows.Count}");

        IDataView ranks = ml.Transforms.SoftRank("SoftRanks", "Features", epsilon: 0).Fit(data).Transform(data);
        Console.WriteLine($"ranks {string.Join(" ", ranks.GetColumn<float[]>("SoftRanks").First())}");

        using var onnx = new MemoryStream();
        ml.Model.ExportToOnnx(ranker, data, onnx);
        Console.WriteLine($"onnx {(onnx.Length > 0 ? "written" : "empty")}");
        Console.WriteLine($"ml.net {System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(MLContext).Assembly)!.InformationalVersion.Split('+')[0]}");

        class Prediction { public float PredictedDigit { get; set; } }
        """ + RowClass;

    // The TorchSharp job: the same label ranking trained by the TorchSharp backend, the app choosing its libtorch.
    private const string TorchProgram = Data + """
        var ranker = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new()
        {
            LabelColumnName = "Ranks", NumberOfIterations = 30, Backend = Microsoft.ML.Perturbed.TorchSharp.TorchTrainingBackend.ForContext(ml, 16),
        }).Fit(data);
        Console.WriteLine($"spearman {ml.LabelRanking().Evaluate(ranker.Transform(data), labelColumnName: "Ranks").Spearman:F2}");
        """ + RowClass;

    [Fact]
    public void A_fresh_app_builds_runs_and_publishes_against_the_packed_packages()
    {
        string root = RepositoryRoot();
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        string work = Directory.CreateTempSubdirectory("perturbed-consumer-").FullName;
        try
        {
            string feed = Path.Combine(work, "feed"), app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            foreach (string project in new[] { "src/Microsoft.ML.Perturbed", "src/Estimators", "src/TorchSharp" })
            {
                Dotnet(root, $"pack {project} -c {configuration} --no-build --no-restore -o \"{feed}\" -p:PackageVersion={Version} -p:MlNetVersion={MlNetVersion}");
            }

            // The backend package depends on TorchSharp, not on a libtorch package (the application chooses that).
            string[] torchDependencies = Dependencies(Path.Combine(feed, $"Microsoft.ML.Perturbed.TorchSharp.{Version}.nupkg"));
            Assert.Contains("TorchSharp", torchDependencies);
            Assert.DoesNotContain(torchDependencies, d => d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));
            Assert.Contains("Microsoft.ML.Perturbed", Dependencies(Path.Combine(feed, $"Microsoft.ML.Perturbed.Estimators.{Version}.nupkg")));

            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration><packageSources><add key="perturbed-local" value="{feed}" /></packageSources></configuration>
                """);
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
                  <ItemGroup><PackageReference Include="Microsoft.ML.Perturbed.Estimators" Version="{Version}" /></ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), Program);
            string packages = Path.Combine(work, "packages");
            string fallback = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = packages, ["RestoreAdditionalProjectFallbackFolders"] = fallback };

            AssertOutput(Dotnet(app, "run -c Release", environment), MlNetVersion);

            // ML.NET 6 brought in by another package (it was NU1608/NU1107 with the [5.0.1, 5.1) pin), warnings as errors:
            // the package built against ML.NET 5 runs on 6.
            if (MlNetVersion.StartsWith("5.", StringComparison.Ordinal))
            {
                string app6 = Path.Combine(work, "app6");
                Directory.CreateDirectory(app6);
                File.Copy(Path.Combine(app, "nuget.config"), Path.Combine(app6, "nuget.config"));
                File.WriteAllText(Path.Combine(app6, "App6.csproj"), $"""
                    <Project Sdk="Microsoft.NET.Sdk">
                      <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings><TreatWarningsAsErrors>true</TreatWarningsAsErrors></PropertyGroup>
                      <ItemGroup>
                        <PackageReference Include="Microsoft.ML.Perturbed.Estimators" Version="{Version}" />
                        <PackageReference Include="Microsoft.ML.FastTree" Version="6.0.0" />
                      </ItemGroup>
                    </Project>
                    """);
                File.WriteAllText(Path.Combine(app6, "Program.cs"), Program);
                AssertOutput(Dotnet(app6, "run -c Release", environment), "6.0.0");
            }
            Dotnet(app, "publish -c Release -o portable", environment);
            AssertOutput(Dotnet(app, $"\"{Path.Combine(app, "portable", "App.dll")}\"", environment), MlNetVersion);
            if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64)
            {
                Dotnet(app, "publish -c Release -r linux-x64 --self-contained false -o linux", environment);
                AssertOutput(Dotnet(app, $"\"{Path.Combine(app, "linux", "App.dll")}\"", environment), MlNetVersion);

                // TorchSharp, with the CPU libtorch for Linux the application adds (run only: a publish copies ≈ 550 MB).
                string torchApp = Path.Combine(work, "torchapp");
                Directory.CreateDirectory(torchApp);
                File.Copy(Path.Combine(app, "nuget.config"), Path.Combine(torchApp, "nuget.config"));
                File.WriteAllText(Path.Combine(torchApp, "TorchApp.csproj"), $"""
                    <Project Sdk="Microsoft.NET.Sdk">
                      <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
                      <ItemGroup>
                        <PackageReference Include="Microsoft.ML.Perturbed.Estimators" Version="{Version}" />
                        <PackageReference Include="Microsoft.ML.Perturbed.TorchSharp" Version="{Version}" />
                        <PackageReference Include="libtorch-cpu-linux-x64" Version="{LibTorchVersion()}" />
                      </ItemGroup>
                    </Project>
                    """);
                File.WriteAllText(Path.Combine(torchApp, "Program.cs"), TorchProgram);
                string torch = Dotnet(torchApp, "run -c Release", environment);
                string spearman = torch.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("spearman ", StringComparison.Ordinal));
                Assert.True(double.Parse(spearman["spearman ".Length..], System.Globalization.CultureInfo.InvariantCulture) > 0.9, torch);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The ML.NET version this build compiled and tests against (-p:MlNetVersion, Directory.Packages.props).</summary>
    internal static string MlNetVersion => typeof(ConsumerProjectTests).Assembly.GetCustomAttributes<System.Reflection.AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MlNetVersion").Value!;

    private static void AssertOutput(string text, string mlNetVersion)
    {
        string Line(string prefix) => text.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(double.Parse(Line("spearman ")["spearman ".Length..], System.Globalization.CultureInfo.InvariantCulture) > 0.9, text);
        Assert.Equal("digits 90 of 90", Line("digits "));
        Assert.Equal("ranks 3 1 2", Line("ranks "));   // the first row's features (3 + u₀, u₁, u₂) ranked ascending
        Assert.Equal("onnx written", Line("onnx "));
        Assert.Equal($"ml.net {mlNetVersion}", Line("ml.net "));   // the ML.NET the app ran (MLContext's assembly)
    }

    /// <summary>The libtorch version this repository's tests use (Directory.Packages.props), so the app restores it from the cache.</summary>
    private static string LibTorchVersion()
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(RepositoryRoot(), "Directory.Packages.props"));
        return (string)props.Descendants().Single(e => e.Name.LocalName == "PackageVersion" && (string?)e.Attribute("Include") == "libtorch-cpu-linux-x64").Attribute("Version")!;
    }

    private static string[] Dependencies(string package)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        ZipArchiveEntry nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var reader = new StreamReader(nuspec.Open());
        return System.Xml.Linq.XDocument.Load(reader).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (string)e.Attribute("id")!).ToArray();
    }

    private string Dotnet(string directory, string arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        text += error.Result;
        output.WriteLine($"> dotnet {arguments}\n{text}");
        Assert.True(process.ExitCode == 0, $"dotnet {arguments} failed ({process.ExitCode}):\n{text}");
        return text;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.Perturbed.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"No Microsoft.ML.Perturbed.slnx above {AppContext.BaseDirectory}.");
    }
}
