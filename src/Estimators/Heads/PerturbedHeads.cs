using System.Collections.Concurrent;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The heads of the perturbed trainer, by name: the built-in ones, and any a user registers so that saved models of
/// their head load back (<see cref="Register"/>, <see cref="RegisterOracle"/>). Thread-safe.
/// </summary>
public static class PerturbedHeads
{
    private static readonly ConcurrentDictionary<string, Func<BinaryReader, PerturbedHead>> s_readers = new(StringComparer.Ordinal)
    {
        ["Multiclass"] = MulticlassHead.Read,
        ["Ranking"] = RankingHead.Read,
        ["TopK"] = TopKHead.Read,
        ["Matching"] = MatchingHead.Read,
        ["ShortestPath"] = ShortestPathHead.Read,
        ["GridPath"] = GridPathHead.Read,
        ["Knapsack"] = KnapsackHead.Read,
    };

    private static readonly HashSet<string> s_builtIn = [.. s_readers.Keys];

    /// <summary>The registered names.</summary>
    public static IReadOnlyCollection<string> Names => s_readers.Keys.ToArray();

    /// <summary>
    /// Registers the reader of a head's saved parameters under its <see cref="PerturbedHead.Name"/>. Registering a name
    /// again replaces the reader (a process may register at start-up more than once); built-in names cannot be replaced.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or a built-in head's.</exception>
    public static void Register(string name, Func<BinaryReader, PerturbedHead> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A head needs a name.", nameof(name));
        if (s_builtIn.Contains(name)) throw new ArgumentException($"'{name}' is a built-in head; choose another name.", nameof(name));
        s_readers[name] = read;
    }

    /// <summary>
    /// Registers a head over a user's own solver and returns it, ready to train: <paramref name="createOracle"/> builds
    /// the oracle for d scores. Call it in every process that loads the head's models.
    /// </summary>
    public static OracleHead RegisterOracle(string name, Func<int, Oracle> createOracle, LabelKind labels = LabelKind.Solution)
    {
        var head = new OracleHead(name, createOracle, labels);
        Register(name, reader => OracleHead.BoundOracleHead.Read(name, createOracle, reader));
        return head;
    }

    /// <summary>Reads a saved head of <paramref name="name"/>; a name not registered in this process fails naming it and the fix.</summary>
    internal static PerturbedHead Read(string name, BinaryReader reader) =>
        s_readers.TryGetValue(name, out Func<BinaryReader, PerturbedHead>? read)
            ? read(reader)
            : throw new FormatException($"The model uses the head '{name}', which is not registered in this process; call PerturbedHeads.RegisterOracle(\"{name}\", …) or PerturbedHeads.Register(\"{name}\", …) before loading.");
}
