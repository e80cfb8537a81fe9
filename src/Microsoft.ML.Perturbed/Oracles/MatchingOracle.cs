using Microsoft.ML.Perturbed.Losses;
namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>The oracle of <see cref="Oracle.Matching"/>, documented there.</summary>
internal sealed class MatchingOracle : Oracle
{
    /// <summary>Creates the oracle for n×n assignments (<paramref name="n"/>² scores per row).</summary>
    public MatchingOracle(int n) : base(CheckedSquare(n), CheckedSquare(n))
    {
        N = n;
    }

    /// <summary>Creates the oracle for a <paramref name="rows"/>×<paramref name="columns"/> score matrix, which must be square.</summary>
    /// <exception cref="ArgumentException">The matrix is not square.</exception>
    public MatchingOracle(int rows, int columns) : this(RequireSquare(rows, columns))
    {
    }

    /// <summary>Side n of the assignment.</summary>
    public int N { get; }

    /// <inheritdoc/>
    public override string Name => $"Matching(n={N})";

    /// <inheritdoc/>
    public override LinearLoss LinearTaskLoss => LinearLosses.ZeroOneSquared;

    /// <inheritdoc/>
    internal override DeviceKernel? DeviceKernel => new DeviceKernel(DeviceKernelKind.Matching);

    private static int CheckedSquare(int n)
    {
        if (n < 1 || n > 46_340)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, $"'n' must be in [1, 46340] so that n² fits in an Int32, got {n}.");
        }
        return n * n;
    }

    private static int RequireSquare(int rows, int columns)
    {
        if (rows != columns)
        {
            throw new ArgumentException(
                $"Matching needs a square score matrix (a perfect matching of n rows to n columns), got {rows}×{columns}.", nameof(columns));
        }
        return rows;
    }

    /// <summary>Column assigned to each row of the maximum-weight assignment of <paramref name="theta"/> (n×n, row-major).</summary>
    public static void Assign(ReadOnlySpan<float> theta, int n, Span<int> columnOfRow)
    {
        Workspace w = Workspace.Get(n);
        Span<double> u = w.U, v = w.V, minv = w.MinV;
        Span<int> p = w.P, way = w.Way;
        Span<bool> used = w.Used;
        u.Clear();
        v.Clear();
        p.Clear();
        way.Clear();
        // Minimize cost a(i, j) = −θ(i−1, j−1) with 1-based rows and columns; index 0 is the virtual start.
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            minv.Fill(double.PositiveInfinity);
            used.Clear();
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                ReadOnlySpan<float> costRow = theta.Slice((i0 - 1) * n, n);
                double ui0 = u[i0];
                for (int j = 1; j <= n; j++)
                {
                    if (!used[j])
                    {
                        double reduced = -(double)costRow[j - 1] - ui0 - v[j];
                        if (reduced < minv[j])
                        {
                            minv[j] = reduced;
                            way[j] = j0;
                        }
                        if (minv[j] < delta)
                        {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }
                for (int j = 0; j <= n; j++)
                {
                    if (used[j])
                    {
                        u[p[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            }
            while (p[j0] != 0);
            do
            {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }
        for (int j = 1; j <= n; j++)
        {
            columnOfRow[p[j] - 1] = j - 1;
        }
    }

    /// <inheritdoc/>
    protected internal override void SolveRow(ReadOnlySpan<float> theta, Span<float> solution)
    {
        Span<int> columnOfRow = Workspace.Get(N).ColumnOfRow;
        Assign(theta, N, columnOfRow);
        solution.Clear();
        for (int i = 0; i < N; i++)
        {
            solution[i * N + columnOfRow[i]] = 1f;
        }
    }

    private sealed class Workspace
    {
        [ThreadStatic] private static Workspace? t_current;
        public readonly double[] U, V, MinV;
        public readonly int[] P, Way, ColumnOfRow;
        public readonly bool[] Used;

        private Workspace(int n)
        {
            U = new double[n + 1];
            V = new double[n + 1];
            MinV = new double[n + 1];
            P = new int[n + 1];
            Way = new int[n + 1];
            Used = new bool[n + 1];
            ColumnOfRow = new int[n];
        }

        public static Workspace Get(int n)
        {
            Workspace? w = t_current;
            if (w is null || w.ColumnOfRow.Length != n)
            {
                t_current = w = new Workspace(n);
            }
            return w;
        }
    }
}
