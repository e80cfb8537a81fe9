using Microsoft.ML.Data;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>A document of <see cref="SyntheticCorpus"/>: its class as a key (1-based) and its text.</summary>
public sealed class SyntheticDocument
{
    [KeyType(SyntheticCorpus.Classes)]
    public uint Label { get; set; }

    public string Text { get; set; } = "";
}
