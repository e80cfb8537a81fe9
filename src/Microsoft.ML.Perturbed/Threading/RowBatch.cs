namespace Microsoft.ML.Perturbed.Threading;

/// <summary>
/// The one row-batch executor: runs a <see cref="RowRange{TBatch}"/> over the rows of a batch, in parallel over chunks of
/// rows (<see cref="RowParallel"/>: the chunking never changes a row's result, so results do not depend on the thread
/// count). A call allocates nothing in steady state: the job is cached per thread and per batch type (a nested call on the
/// same thread gets its own), and a <c>static</c> lambda as the body is cached by the compiler. Every row-wise operation
/// of the library — oracles, row layers, soft operators, row-wise losses, the perturbed optimizer — runs through here.
/// </summary>
internal static class RowBatch
{
    /// <summary>Runs <paramref name="body"/> over rows [0, <paramref name="rows"/>).</summary>
    /// <param name="rows">Number of rows.</param>
    /// <param name="maxDegreeOfParallelism">Most threads; −1 uses every core.</param>
    /// <param name="batch">What the body needs; copied into the job for the duration of the call.</param>
    /// <param name="body">Processes a range of rows; should be a <c>static</c> lambda.</param>
    /// <param name="minRowsPerChunk">Fewest rows a worker takes at a time.</param>
    public static void Run<TBatch>(int rows, int maxDegreeOfParallelism, in TBatch batch, RowRange<TBatch> body, int minRowsPerChunk = 1)
        where TBatch : struct
    {
        Job<TBatch> job = Job<TBatch>.Rent();
        job.Batch = batch;
        job.Body = body;
        try
        {
            RowParallel.For(rows, maxDegreeOfParallelism, job, minRowsPerChunk);
        }
        finally
        {
            job.Return();
        }
    }

    private sealed class Job<TBatch> : IRowJob where TBatch : struct
    {
        [ThreadStatic] private static Job<TBatch>? t_cached;
        public TBatch Batch;
        public RowRange<TBatch>? Body;

        public static Job<TBatch> Rent()
        {
            Job<TBatch> job = t_cached ?? new Job<TBatch>();
            t_cached = null;   // a nested call on this thread gets its own job
            return job;
        }

        public void Return()
        {
            Batch = default;   // drop the references the batch held
            Body = null;
            t_cached = this;
        }

        public void Execute(int start, int end) => Body!(in Batch, start, end);
    }
}
