using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Robustness;

/// <summary>Sizes whose products overflow 32 bits are refused up front, naming the sizes and the limit (issue "right or refused", item 8).</summary>
public class SizeRefusalTests
{
    [Theory]
    [InlineData(65_536, 65_536)]
    [InlineData(46_341, 46_341)]
    [InlineData(10_000, 10_000)]
    public void A_dag_grid_too_large_is_refused_with_its_node_count(int rows, int columns)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DagShortestPathOracle.Grid(rows, columns));
        Assert.Contains($"{(long)rows * columns} nodes exceeds the {DagShortestPathOracle.MaxGridNodes}", e.Message);
        Assert.Contains("at least two nodes", Assert.Throws<ArgumentOutOfRangeException>(() => DagShortestPathOracle.Grid(1, 1)).Message);
        Assert.Equal(40, DagShortestPathOracle.Grid(5, 5).Dimension);   // PyEPO's grid still builds
    }

    [Fact]
    public void A_knapsack_capacity_of_int_max_is_refused_by_the_cell_limit()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new KnapsackOracle([1, 2, 3], int.MaxValue));
        Assert.Equal("capacity", e.ParamName);
        Assert.Contains("exceeds 2²⁶ cells", e.Message);
    }

    [Fact]
    public void Models_whose_parameter_counts_overflow_are_refused_naming_the_sizes()
    {
        var affine = Assert.Throws<ArgumentOutOfRangeException>(() => new AffineModel(65_536, 65_536));
        Assert.Contains("65536 features × 65536 outputs has 4295032832 parameters", affine.Message);
        var hidden = Assert.Throws<ArgumentOutOfRangeException>(() => MlpModel.Random(10, [65_536, 65_536], 3, seed: 1));
        Assert.Equal("hiddenLayers[1]", hidden.ParamName);
        Assert.Contains("65536 inputs × 65536 outputs", hidden.Message);
        Assert.Equal("outputs", Assert.Throws<ArgumentOutOfRangeException>(() => MlpModel.Random(10, [4], 0, seed: 1)).ParamName);
        Assert.Equal("hiddenLayers[0]", Assert.Throws<ArgumentOutOfRangeException>(() => MlpModel.Random(10, [0], 3, seed: 1)).ParamName);
    }

    [Fact]
    public void Empty_lists_and_zero_sizes_are_refused_under_the_callers_own_names()
    {
        var edges = Assert.Throws<ArgumentException>(() => new DagShortestPathOracle(3, [], 0, 2));
        Assert.Equal("edges", edges.ParamName);
        Assert.Contains("expected at least one edge", edges.Message);
        var weights = Assert.Throws<ArgumentException>(() => new KnapsackOracle([], 5));
        Assert.Equal("weights", weights.ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new GridScorePathOracle(0, 5)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new GridVertexShortestPathOracle(0, 5)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => DagShortestPathOracle.Grid(0, 5)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => DagShortestPathOracle.Grid(5, 0)).ParamName);
    }

    [Fact]
    public void A_negative_perturbed_vertex_cost_says_the_noise_made_it_and_what_to_do()
    {
        var e = Assert.Throws<ArgumentException>(() => new GridVertexShortestPathOracle(2, 2).Solve(new float[] { 1, -0.022f, 1, 1 }, new float[4]));
        Assert.Contains("found -0.022 at cell 1", e.Message);
        Assert.Contains("PerturbationKind.Multiplicative", e.Message);
    }
}
