namespace Microsoft.ML.Perturbed.TorchSharp.Tests;

/// <summary>Where the repository's checks (public surface, result provenance) find the sources.</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder holding Microsoft.ML.Perturbed.slnx, above the test's binaries.</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.Perturbed.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"No Microsoft.ML.Perturbed.slnx above {AppContext.BaseDirectory}.");
    }
}
