using System.Diagnostics;
using System.Text;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// Benchmark 2's data: a generated text corpus, hashed into n-gram counts by ML.NET and saved as an ML.NET binary data
/// file. Words come from a Zipf law (exponent 1.1) over a 50,000-word vocabulary; each of the 20 classes has 4 topic
/// words of its own and 2 shared words, s_c with the class before and s_{c+1} with the class after; a document has 20–60 words, each a topic word of its class with
/// probability 0.06. The text goes through <c>ProduceHashedWordBags</c> (word unigrams and bigrams hashed into 2^bits slots,
/// ML.NET's defaults otherwise) and an L2 row normalization, and is saved with its key label (<c>SaveAsBinary</c>), so the
/// trainer reads finished sparse rows from disk, pass after pass.
/// </summary>
public static class SyntheticCorpus
{
    public const int Classes = 20, Vocabulary = 50_000, OwnTopicWords = 4, SharedTopicWords = 2;
    public const double ZipfExponent = 1.1, TopicProbability = 0.06;

    /// <summary>Generates <paramref name="rows"/> documents from <paramref name="seed"/>, hashes them and saves the binary file; returns the seconds taken.</summary>
    public static double Write(string path, long rows, int bits, int seed)
    {
        var watch = Stopwatch.StartNew();
        var ml = new MLContext(seed: 1);
        IDataView text = ml.Data.LoadFromEnumerable(Documents(rows, seed));
        IDataView hashed = ml.Transforms.Text.ProduceHashedWordBags("Counts", "Text", numberOfBits: bits, ngramLength: 2, useAllLengths: true)
            .Append(ml.Transforms.NormalizeLpNorm("Features", "Counts"))
            .Fit(text).Transform(text);
        IDataView output = ml.Transforms.SelectColumns("Label", "Features").Fit(hashed).Transform(hashed);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using (var stream = File.Create(path)) ml.Data.SaveAsBinary(output, stream, keepHidden: false);
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>The documents, generated lazily (the same sequence on every enumeration).</summary>
    public static IEnumerable<SyntheticDocument> Documents(long rows, int seed)
    {
        double[] cdf = ZipfCdf();
        var rng = new System.Random(seed);
        var sb = new StringBuilder();
        for (long r = 0; r < rows; r++)
        {
            int c = rng.Next(Classes);
            int length = 20 + rng.Next(41);
            sb.Clear();
            for (int i = 0; i < length; i++)
            {
                if (i > 0) sb.Append(' ');
                if (rng.NextDouble() < TopicProbability)
                {
                    int t = rng.Next(OwnTopicWords + SharedTopicWords);
                    // Topic words t < 4 are the class's own; t = 4, 5 are s_c and s_{c+1}, each shared by two neighbouring classes.
                    if (t < OwnTopicWords) sb.Append('t').Append(c).Append('_').Append(t);
                    else sb.Append('s').Append((c + t - OwnTopicWords) % Classes);
                }
                else
                {
                    int w = Array.BinarySearch(cdf, rng.NextDouble());
                    sb.Append('w').Append(w < 0 ? ~w : w);
                }
            }
            yield return new SyntheticDocument { Label = (uint)(c + 1), Text = sb.ToString() };
        }
    }

    private static double[] ZipfCdf()
    {
        var cdf = new double[Vocabulary];
        double total = 0;
        for (int i = 0; i < Vocabulary; i++) cdf[i] = total += Math.Pow(i + 1, -ZipfExponent);
        for (int i = 0; i < Vocabulary; i++) cdf[i] /= total;
        cdf[^1] = 1;
        return cdf;
    }
}
