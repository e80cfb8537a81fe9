using System.Runtime.ExceptionServices;

namespace Microsoft.ML.Perturbed.Threading;

/// <summary>
/// Parallel loop over rows without steady-state allocations: the loop state and its thread-pool work items
/// are pooled, the calling thread takes part, and rows are handed out in chunks through one shared counter.
/// Results never depend on which thread ran a row, so row-wise code stays bit-for-bit reproducible.
/// </summary>
internal static class RowParallel
{
    private static readonly Stack<LoopState> s_pool = new();

    /// <summary>Number of workers a loop over <paramref name="rows"/> rows may use under <paramref name="maxDegreeOfParallelism"/> (−1: all cores).</summary>
    public static int WorkerCount(int rows, int maxDegreeOfParallelism)
    {
        int cores = Environment.ProcessorCount;
        int limit = maxDegreeOfParallelism <= 0 ? cores : Math.Min(maxDegreeOfParallelism, cores);
        return Math.Max(1, Math.Min(limit, rows));
    }

    /// <summary>Runs <paramref name="job"/> over rows [0, <paramref name="rows"/>); rethrows the first exception a row threw.</summary>
    public static void For(int rows, int maxDegreeOfParallelism, IRowJob job, int minRowsPerChunk = 1)
    {
        int workers = WorkerCount(rows, maxDegreeOfParallelism);
        if (workers == 1 || rows <= minRowsPerChunk)
        {
            if (rows > 0)
            {
                job.Execute(0, rows);
            }
            return;
        }

        LoopState state = Rent();
        int chunk = Math.Max(minRowsPerChunk, rows / (workers * 4));
        state.Start(job, rows, chunk, workers);
        for (int w = 1; w < workers; w++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(state.Items[w], preferLocal: false);
        }
        state.Work();
        state.Done.Wait();
        ExceptionDispatchInfo? error = state.Error;
        state.AwaitWorkersBriefly();
        state.Release();   // the caller's reference; the last one out returns the state to the pool
        error?.Throw();
    }

    private static LoopState Rent()
    {
        lock (s_pool)
        {
            if (s_pool.Count > 0)
            {
                return s_pool.Pop();
            }
        }
        return new LoopState();
    }

    private sealed class LoopState
    {
        public readonly WorkItem[] Items;
        public readonly ManualResetEventSlim Done = new(false);
        public ExceptionDispatchInfo? Error;
        private IRowJob? _job;
        private int _rows, _chunk, _next, _finished, _references;

        public LoopState()
        {
            Items = new WorkItem[Environment.ProcessorCount];
            for (int i = 0; i < Items.Length; i++)
            {
                Items[i] = new WorkItem(this);
            }
        }

        public void Start(IRowJob job, int rows, int chunk, int workers)
        {
            _job = job;
            _rows = rows;
            _chunk = chunk;
            _next = 0;
            _finished = 0;
            _references = workers;
            Error = null;
            Done.Reset();
        }

        public void Work()
        {
            IRowJob job = _job!;
            while (true)
            {
                int start = Interlocked.Add(ref _next, _chunk) - _chunk;
                if (start >= _rows)
                {
                    return;
                }
                int end = Math.Min(_rows, start + _chunk);
                try
                {
                    job.Execute(start, end);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref Error, ExceptionDispatchInfo.Capture(ex), null);
                }
                if (Interlocked.Add(ref _finished, end - start) == _rows)
                {
                    Done.Set();
                }
            }
        }

        /// <summary>
        /// Spins a little for the workers to leave, so that the caller usually returns the state to the pool itself and
        /// the next call reuses it. A worker that has not even started is not waited for: it returns the state later.
        /// </summary>
        public void AwaitWorkersBriefly()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _references) > 1 && !spin.NextSpinWillYield)
            {
                spin.SpinOnce();
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0)
            {
                _job = null;
                lock (s_pool)
                {
                    s_pool.Push(this);
                }
            }
        }
    }

    private sealed class WorkItem(LoopState state) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            state.Work();
            state.Release();
        }
    }
}
