using System.Reflection;

namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

/// <summary>
/// Keeps the public surface to what a user needs and the sources easy to find (docs/architecture.md, "Public surface and
/// layout"): counts the exported types of the three assemblies from their compiled metadata against a budget that only
/// goes down; checks that every source file's namespace follows its folder and that a file holds one top-level type, named
/// like the file, and at most 400 lines.
/// </summary>
public sealed class PublicSurfaceTests(ITestOutputHelper output)
{
    /// <summary>Most exported types across the three assemblies. Lower it when a change removes public types; never raise it
    /// without a user-facing reason (issue 23's goal is 90).</summary>
    private const int Budget = 88;   // 164 at e644fe6, 111 at a3fb585 (PermutationKernels added); 88 after the oracles, FY/layer losses, permutahedron operators and catalogs went behind factories

    private static readonly Assembly[] Assemblies =
    [
        typeof(Microsoft.ML.Perturbed.Layers.Layer).Assembly,
        typeof(Microsoft.ML.PerturbedCatalog).Assembly,
        typeof(Microsoft.ML.Perturbed.TorchSharp.TorchDevice).Assembly,
    ];

    [Fact]
    public void Exported_types_stay_within_the_budget()
    {
        int total = 0;
        foreach (Assembly assembly in Assemblies)
        {
            Type[] types = assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal).ToArray();
            total += types.Length;
            output.WriteLine($"{assembly.GetName().Name}: {types.Length}");
            foreach (Type t in types) output.WriteLine($"  {t.FullName}");
        }
        output.WriteLine($"total: {total} (budget {Budget})");
        Assert.True(total <= Budget, $"{total} exported types, budget {Budget}: make scaffolding internal.");
    }

    /// <summary>The source projects: folder, root namespace.</summary>
    private static readonly (string Folder, string Namespace)[] Projects =
    [
        ("src/Microsoft.ML.Perturbed", "Microsoft.ML.Perturbed"),
        ("src/Estimators", "Microsoft.ML.Perturbed.Estimators"),
        ("src/TorchSharp", "Microsoft.ML.Perturbed.TorchSharp"),
    ];

    /// <summary>
    /// Files that hold no type of their own by design: every use of ML.NET internals lives in one place (docs/architecture.md,
    /// "ML.NET internals") — the assembly attributes that let CoreCLR accept the accesses, and the partial declarations that
    /// add ML.NET's internal interfaces to our types.
    /// </summary>
    private static readonly string[] InternalsFiles = ["src/Estimators/ModelPersistence/AccessChecks.cs", "src/Estimators/ModelPersistence/InternalInterfaces.cs"];

    [Fact]
    public void Namespaces_follow_folders_and_a_file_holds_one_type_named_like_it()
    {
        string root = RepositoryPaths.Root();
        var problems = new List<string>();
        var declaration = new System.Text.RegularExpressions.Regex(
            @"^(?:public |internal |file )?(?:(?:sealed|static|abstract|readonly|partial|unsafe|ref) )*(?:class|struct|interface|enum|record(?: struct| class)?|delegate [\w<>\[\]?,. ]+?) +([A-Za-z_]\w*)",
            System.Text.RegularExpressions.RegexOptions.Multiline);
        foreach ((string folder, string rootNamespace) in Projects)
        {
            string projectDir = Path.Combine(root, folder);
            foreach (string file in Directory.EnumerateFiles(projectDir, "*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(projectDir, file).Replace('\\', '/');
                if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal)) continue;
                if (InternalsFiles.Contains($"{folder}/{relative}")) continue;
                string text = File.ReadAllText(file);
                string? directory = Path.GetDirectoryName(relative)?.Replace('/', '.');
                string expected = string.IsNullOrEmpty(directory) ? rootNamespace : rootNamespace + "." + directory;
                string ns = System.Text.RegularExpressions.Regex.Match(text, @"^namespace ([\w.]+);", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
                // ML.NET's convention: catalog entry points live in ML.NET's own namespace; the access-check attribute in the runtime's.
                bool allowed = ns == expected || ns == "Microsoft.ML" || (ns == "System.Runtime.CompilerServices" && relative.EndsWith("AccessChecks.cs", StringComparison.Ordinal));
                if (!allowed) problems.Add($"{folder}/{relative}: namespace {ns}, expected {expected}");
                string[] types = declaration.Matches(text).Select(m => m.Groups[1].Value).ToArray();
                string fileType = Path.GetFileNameWithoutExtension(relative).Split('.')[0];   // SinkhornSorting.Transport.cs → SinkhornSorting (a partial)
                if (types.Length != 1 || types[0] != fileType) problems.Add($"{folder}/{relative}: top-level types [{string.Join(", ", types)}], expected [{fileType}]");
                int lines = text.Count(c => c == '\n');
                if (lines > 400) problems.Add($"{folder}/{relative}: {lines} lines (at most 400)");
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
