using Microsoft.ML.Perturbed.Data;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Data;

/// <summary>
/// Live-memory measurements (GC.GetTotalMemory is process-wide): in the <see cref="MemoryMeasurement"/> collection, which
/// runs alone, so that other tests' allocations do not land in the measurement.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public class StreamingMemoryTests
{
    [Fact]
    public void Streaming_holds_a_bounded_number_of_rows_whatever_the_data_size()
    {
        // Dense rows of 400 floats (1.6 kB) generated on the fly: 40,000 rows would be 64 MB if a reader kept them.
        long Peak(int n)
        {
            long peak = 0;
            var stream = new SparseData.GeneratedStream(rows: n, p: 400, d: 4, sparse: false) { AtEndOfPass = () => peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true)) };
            var source = (StreamingSource)TrainingSource.FromStream(stream, shufflePoolSize: 256);
            StructuredTrainer.Fit(new ArgmaxOracle(4), source, new StructuredTrainerOptions { NumberOfIterations = 2, Seed = 1, Samples = 1, BatchSize = 64 });
            Assert.Equal(256, source.PeakPooledRows);
            return peak;
        }
        long small = Peak(4_000), large = Peak(40_000);
        Assert.True(large - small < 8_000_000, $"Live memory grew by {(large - small) / 1e6:F1} MB from 4,000 to 40,000 streamed rows.");
    }
}
