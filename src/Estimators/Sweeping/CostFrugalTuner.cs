namespace Microsoft.ML.Perturbed.Estimators.Sweeping;

/// <summary>
/// Cost-frugal randomized local search (the FLOW2 search of Wu, Wang &amp; Huang 2021, behind AutoML's CFO): start at the
/// defaults; each round evaluates x ± δu for a random unit direction u and moves to the better one if it beats x;
/// 2^(d−1) rounds without progress halve δ; below a floor the search restarts from a random point with δ reset. Rounds are
/// pairs, so two trials can run at once with results independent of the parallelism.
/// </summary>
internal sealed class CostFrugalTuner : ISweepTuner
{
    private const double InitialStep = 0.25, MinimumStep = 1.0 / 64;
    private readonly System.Random _random;
    private readonly int _dimension;
    private readonly Queue<double[]> _pending = new();
    private double[] _incumbent;
    private double _incumbentScore = double.NegativeInfinity, _step = InitialStep, _roundBest = double.NegativeInfinity;
    private double[]? _roundBestPoint;
    private int _awaiting, _failures;
    private bool _started;

    /// <summary>Creates the search from <paramref name="start"/> (unit coordinates, usually the defaults).</summary>
    public CostFrugalTuner(double[] start, int seed)
    {
        ArgumentNullException.ThrowIfNull(start);
        _dimension = start.Length;
        _incumbent = (double[])start.Clone();
        _random = new System.Random(seed);
    }

    /// <inheritdoc/>
    public string Name => "cost-frugal";

    /// <inheritdoc/>
    public bool IsExhausted => false;

    /// <inheritdoc/>
    public IReadOnlyList<double[]> Propose(int count)
    {
        if (_pending.Count == 0 && _awaiting == 0) NewRound();
        var points = new List<double[]>();
        while (points.Count < count && _pending.Count > 0) points.Add(_pending.Dequeue());
        return points;
    }

    private void NewRound()
    {
        if (!_started)
        {
            _started = true;
            _pending.Enqueue((double[])_incumbent.Clone());
            _awaiting = 1;
            return;
        }
        double[] u = Enumerable.Range(0, _dimension).Select(_ => Gaussian()).ToArray();
        double norm = Math.Sqrt(u.Sum(v => v * v));
        for (int i = 0; i < _dimension; i++) u[i] /= norm == 0 ? 1 : norm;
        _pending.Enqueue(Move(+1, u));
        _pending.Enqueue(Move(-1, u));
        _awaiting = 2;
        _roundBest = double.NegativeInfinity;
        _roundBestPoint = null;
    }

    private double[] Move(int sign, double[] u) => _incumbent.Select((x, i) => Reflect(x + sign * _step * u[i])).ToArray();

    private static double Reflect(double v) => v < 0 ? Math.Min(1, -v) : v > 1 ? Math.Max(0, 2 - v) : v;

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

    /// <inheritdoc/>
    public void Report(double[] point, double score)
    {
        if (_awaiting == 0) return;
        if (score > _roundBest)
        {
            _roundBest = score;
            _roundBestPoint = point;
        }
        if (--_awaiting > 0) return;
        if (_roundBestPoint is not null && _roundBest > _incumbentScore)
        {
            bool first = double.IsNegativeInfinity(_incumbentScore);
            _incumbent = (double[])_roundBestPoint.Clone();
            _incumbentScore = _roundBest;
            if (!first) _failures = 0;
            return;
        }
        if (++_failures >= 1 << Math.Min(_dimension - 1, 10))
        {
            _failures = 0;
            _step /= 2;
            if (_step < MinimumStep)
            {
                // Converged here: restart from a random point (the sweep keeps the best trial seen so far).
                _step = InitialStep;
                _incumbent = Enumerable.Range(0, _dimension).Select(_ => _random.NextDouble()).ToArray();
                _incumbentScore = double.NegativeInfinity;
                _started = false;
            }
        }
    }
}
