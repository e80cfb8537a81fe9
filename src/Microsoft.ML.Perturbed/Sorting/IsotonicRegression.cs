namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>
/// Isotonic regression under a non-increasing constraint v₁ ≥ v₂ ≥ … ≥ vₙ by pool-adjacent-violators (PAV), in O(n).
/// These are the projections behind soft ranking and sorting (Blondel, Teboul, Berthet, Djolonga 2020,
/// "Fast Differentiable Sorting and Ranking", §4–5).
/// </summary>
internal static class IsotonicRegression
{
    /// <summary>
    /// argmin_v ½‖v − y‖² subject to v non-increasing. Each block of pooled entries takes the mean of its y.
    /// </summary>
    /// <param name="y">Input, finite.</param>
    /// <param name="solution">Destination v, same length as <paramref name="y"/>.</param>
    public static void L2(ReadOnlySpan<double> y, Span<double> solution)
    {
        Guard.Length(solution.Length, y.Length, nameof(solution), "one value per input");
        var work = new double[2 * y.Length];
        var ends = new int[y.Length];
        L2(y, solution, work, ends);
    }

    /// <summary>
    /// argmin_v ⟨e^{y−v}, 1⟩ + ⟨e^w, v⟩ subject to v non-increasing. Each block B takes LSE(y_B) − LSE(w_B).
    /// </summary>
    /// <param name="y">Input, finite.</param>
    /// <param name="w">Weights in log space, finite, same length.</param>
    /// <param name="solution">Destination v, same length.</param>
    public static void KL(ReadOnlySpan<double> y, ReadOnlySpan<double> w, Span<double> solution)
    {
        Guard.Length(w.Length, y.Length, nameof(w), "one weight per input");
        Guard.Length(solution.Length, y.Length, nameof(solution), "one value per input");
        var work = new double[4 * y.Length];
        var ends = new int[y.Length];
        KL(y, w, solution, work, ends);
    }

    /// <summary>PAV-L2 with caller scratch: <paramref name="work"/> ≥ 2n doubles, <paramref name="blockEnds"/> ≥ n ints.
    /// Returns the number of blocks; block b covers [blockEnds[b−1], blockEnds[b]) with blockEnds[−1] = 0.</summary>
    internal static int L2(ReadOnlySpan<double> y, Span<double> solution, Span<double> work, Span<int> blockEnds)
    {
        int n = y.Length, top = -1;
        // Blocks keep their mean (not their sum), merged as a convex combination: no overflow at any finite magnitude.
        Span<double> means = work[..n], counts = work.Slice(n, n);
        for (int i = 0; i < n; i++)
        {
            top++;
            means[top] = y[i];
            counts[top] = 1;
            blockEnds[top] = i + 1;
            // Pool while the previous block's mean is not above the last one's (a violation of v non-increasing).
            while (top > 0 && means[top - 1] <= means[top])
            {
                double c = counts[top - 1] + counts[top];
                means[top - 1] = means[top - 1] * (counts[top - 1] / c) + means[top] * (counts[top] / c);
                counts[top - 1] = c;
                blockEnds[top - 1] = blockEnds[top];
                top--;
            }
        }
        int start = 0;
        for (int b = 0; b <= top; b++)
        {
            solution[start..blockEnds[b]].Fill(means[b]);
            start = blockEnds[b];
        }
        return top + 1;
    }

    /// <summary>
    /// PAV-KL with caller scratch: <paramref name="work"/> ≥ 4n doubles, <paramref name="blockEnds"/> ≥ n ints (see the L2
    /// overload). A block B keeps LSE(y_B) = mY + log sY and LSE(w_B) = mW + log sW, with mY, mW the block's maxima and
    /// sY, sW ∈ [1, |B|] the sums of exp(· − max): a merge costs one exponential per part and one logarithm (the block's
    /// value LSE(y_B) − LSE(w_B), kept for the comparisons), and never overflows. On return, block b's mW and sW are at
    /// work[2n + b] and work[3n + b].
    /// </summary>
    internal static int KL(ReadOnlySpan<double> y, ReadOnlySpan<double> w, Span<double> solution, Span<double> work, Span<int> blockEnds)
    {
        int n = y.Length, top = -1;
        Span<double> mY = work[..n], sY = work.Slice(n, n), mW = work.Slice(2 * n, n), sW = work.Slice(3 * n, n);
        Span<double> value = solution;   // block b's value at index b ≤ its start; written out backwards below
        for (int i = 0; i < n; i++)
        {
            top++;
            mY[top] = y[i];
            sY[top] = 1;
            mW[top] = w[i];
            sW[top] = 1;
            value[top] = y[i] - w[i];
            blockEnds[top] = i + 1;
            while (top > 0 && value[top - 1] <= value[top])
            {
                Pool(ref mY[top - 1], ref sY[top - 1], mY[top], sY[top]);
                Pool(ref mW[top - 1], ref sW[top - 1], mW[top], sW[top]);
                value[top - 1] = (mY[top - 1] - mW[top - 1]) + Math.Log(sY[top - 1] / sW[top - 1]);
                blockEnds[top - 1] = blockEnds[top];
                top--;
            }
        }
        for (int b = top; b >= 0; b--)
        {
            int start = b == 0 ? 0 : blockEnds[b - 1];
            solution[start..blockEnds[b]].Fill(value[b]);
        }
        return top + 1;
    }

    /// <summary>Adds the log-sum (m₂, s₂) into (m₁, s₁): both as max and scaled sum, one exponential.</summary>
    private static void Pool(ref double m1, ref double s1, double m2, double s2)
    {
        if (m1 >= m2)
        {
            s1 += s2 * Math.Exp(m2 - m1);
        }
        else
        {
            s1 = s1 * Math.Exp(m1 - m2) + s2;
            m1 = m2;
        }
    }

    /// <summary>The mean of <paramref name="x"/>[a, b), as a running average (no overflow at any finite magnitude).</summary>
    internal static double Mean(ReadOnlySpan<double> x, int a, int b)
    {
        double mean = 0;
        for (int k = a; k < b; k++) mean += (x[k] - mean) / (k - a + 1);
        return mean;
    }

    /// <summary>
    /// log Σ exp(x[a, b)) as (max, log Σ exp(x − max)), kept apart so that x_k − LSE = (x_k − max) − log Σ loses nothing
    /// when |max| is so large that adding the small log would round away.
    /// </summary>
    internal static (double Max, double LogSum) LogSumExp(ReadOnlySpan<double> x, int a, int b)
    {
        double max = double.NegativeInfinity;
        for (int k = a; k < b; k++) max = Math.Max(max, x[k]);
        if (b - a == 1) return (max, 0);
        double sum = 0;
        for (int k = a; k < b; k++) sum += Math.Exp(x[k] - max);
        return (max, Math.Log(sum));
    }

    /// <summary>log(eᵃ + eᵇ) = max + log1p(exp(min − max)), which never overflows.</summary>
    internal static double LogAddExp(double a, double b)
    {
        double max = Math.Max(a, b), min = Math.Min(a, b);
        return max + Math.Log(1 + Math.Exp(min - max));
    }
}
