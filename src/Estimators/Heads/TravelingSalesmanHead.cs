using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>
/// The symmetric travelling salesman over k cities (<see cref="Oracle.TravelingSalesman"/>, exact): scores are the predicted
/// costs of the k(k − 1)/2 city pairs (upper triangle, row by row), labels the optimal tour's edge indicators or the true
/// pair costs.
/// </summary>
internal sealed class TravelingSalesmanHead : DecisionHead
{
    private readonly Oracle _oracle;

    /// <summary>Creates the head over <paramref name="cities"/> cities.</summary>
    /// <param name="cities">Number of cities k, from 3 to 16.</param>
    /// <param name="labels">Whether labels are tours (default) or true pair costs (needed by SPO+ and regret).</param>
    public TravelingSalesmanHead(int cities, LabelKind labels = LabelKind.Solution) : this(cities, labels, 0)
    {
    }

    private TravelingSalesmanHead(int cities, LabelKind labels, int dimension) : base(dimension, labels)
    {
        _oracle = Oracle.TravelingSalesman(cities);   // checks the city count
        Cities = cities;
    }

    /// <summary>The number of cities k.</summary>
    public int Cities { get; }

    /// <inheritdoc/>
    public override string Name => "TravelingSalesman";

    private protected override int DimensionFor(int size, string column) => RequireLabelSize(size, _oracle.Dimension, column, $" (one value per pair of the {Cities} cities)");

    private protected override DecisionHead WithDimension(int dimension) => new TravelingSalesmanHead(Cities, Labels, dimension);

    /// <inheritdoc/>
    public override Oracle CreateOracle() => _oracle;

    private protected override string OnnxDownstream => "the cheapest tour over the cities with pair costs θ (Oracle.TravelingSalesman in .NET; Held–Karp dynamic programming elsewhere)";

    private protected override void CheckSolution(ReadOnlySpan<float> label, string column, long row)
    {
        RequireZeroOne(label, column, row);
        // A tour: every city on two edges, and the edges close one cycle through all k cities.
        int k = Cities;
        Span<int> degree = stackalloc int[k], first = stackalloc int[k], second = stackalloc int[k];
        first.Fill(-1);
        second.Fill(-1);
        for (int i = 0, e = 0; i < k; i++)
        {
            for (int j = i + 1; j < k; j++, e++)
            {
                if (label[e] == 0) continue;
                Join(i, j, degree, first, second);
                Join(j, i, degree, first, second);
            }
        }
        for (int city = 0; city < k; city++)
        {
            if (degree[city] != 2) throw new InvalidOperationException($"Column '{column}' row {row} is not a tour: city {city} is on {degree[city]} edges, not 2.");
        }
        int length = 1;
        for (int previous = 0, current = first[0]; current != 0; length++)
        {
            int next = first[current] == previous ? second[current] : first[current];
            (previous, current) = (current, next);
        }
        if (length != k) throw new InvalidOperationException($"Column '{column}' row {row} is not a tour: the cycle through city 0 visits {length} of the {k} cities.");

        static void Join(int city, int other, Span<int> degree, Span<int> first, Span<int> second)
        {
            if (++degree[city] == 1) first[city] = other;
            else second[city] = other;
        }
    }

    // *** Binary format ***: int label kind; int cities.
    /// <inheritdoc/>
    internal override void Write(BinaryWriter writer)
    {
        WriteLabels(writer);
        writer.Write(Cities);
    }

    internal static TravelingSalesmanHead Read(BinaryReader reader)
    {
        LabelKind labels = ReadLabels(reader);
        int cities = reader.ReadInt32();
        if (cities < TravelingSalesmanOracle.MinCities || cities > TravelingSalesmanOracle.MaxCities) throw new FormatException($"The saved travelling-salesman head claims {cities} cities.");
        return new TravelingSalesmanHead(cities, labels, cities * (cities - 1) / 2);
    }
}
