using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.Structured;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// How users get heads (docs/architecture.md, "ML.NET"): the factories of <see cref="PerturbedHeads"/> build the heads the
/// catalogs build, refuse bad arguments by name, and <see cref="PerturbedHeads.RegisterOracle"/> is the registry by name
/// from which models load their head.
/// </summary>
public class PerturbedHeadsTests
{
    [Fact]
    public void A_head_from_a_factory_trains_the_model_its_catalog_entry_trains()
    {
        IDataView Data(MLContext ml) => HeadContractTests.Linear(ml, 60, 6, new TopKOracle(6, 2), false, 4);
        float[][] Scores(Func<StructuredPredictionTrainers, PerturbedTrainer> trainer)
        {
            var ml = new MLContext(seed: 1);
            IDataView data = Data(ml);
            PerturbedPredictionTransformer model = trainer(ml.StructuredPrediction().Trainers).Fit(data);
            Assert.IsType<PerturbedPredictionTransformer>(model);   // the one transformer, no subclass
            return model.Transform(data).GetColumn<float[]>("Score").ToArray();
        }
        var options = new PerturbedStructuredOptions { NumberOfIterations = 3, Seed = 5 };
        Assert.Equal(Scores(t => t.TopK(2, options)), Scores(t => t.Perturbed(PerturbedHeads.TopK(2), options)));
        var grid = DagShortestPathOracle.Grid(3, 3);
        Assert.Equal("ShortestPath(d=12)", PerturbedHeads.ShortestPath(grid).Bind(VectorColumn(grid.Dimension)).ToString());
        Assert.Equal(new[] { "TopK", "Matching", "ShortestPath", "GridPath", "Knapsack", "Ranking", "Multiclass" },
            new[] { PerturbedHeads.TopK(1), PerturbedHeads.Matching(2), PerturbedHeads.ShortestPath(grid), PerturbedHeads.GridPath(2, 2),
                PerturbedHeads.Knapsack([1, 2], 2), PerturbedHeads.Ranking(), PerturbedHeads.Multiclass() }.Select(h => h.Name));
    }

    [Fact]
    public void The_factories_and_RegisterOracle_refuse_bad_arguments_by_name()
    {
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedHeads.TopK(0)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedHeads.Matching(0)).ParamName);
        Assert.Equal("graph", Assert.Throws<ArgumentNullException>(() => PerturbedHeads.ShortestPath(null!)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedHeads.ShortestPath(DagShortestPathOracle.Grid(2, 2), (LabelKind)7)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedHeads.GridPath(1, 1)).ParamName);
        Assert.Equal("capacity", Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedHeads.Knapsack([1, 2], -1)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PerturbedHeads.Knapsack([], 1)).ParamName);
        Assert.Equal("createOracle", Assert.Throws<ArgumentNullException>(() => PerturbedHeads.RegisterOracle("TestNoFactory", null!)).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => PerturbedHeads.RegisterOracle(" ", d => new TopKOracle(d, 1))).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedHeads.RegisterOracle("TestBadLabels", d => new TopKOracle(d, 1), (LabelKind)7)).ParamName);
        Assert.DoesNotContain("TestBadLabels", PerturbedHeads.Names);
    }

    private static DataViewSchema.Column VectorColumn(int size)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Label", new VectorDataViewType(NumberDataViewType.Single, size));
        return builder.ToSchema()["Label"];
    }

    [Fact]
    public void A_model_of_an_unregistered_head_fails_to_load_naming_the_head_and_the_fix()
    {
        var ml = new MLContext(seed: 1);
        // A head over a user's oracle that this process never registers (RegisterOracle would): its model saves, and
        // loading it fails in the registry.
        var head = new OracleHead("TestNeverRegistered", d => Oracle.Create(d, d, HeadContractTests.BestPair, "BestPair"));
        IDataView data = HeadContractTests.Linear(ml, 50, 4, Oracle.Create(4, 4, HeadContractTests.BestPair, "BestPair"), false, 3);
        PerturbedPredictionTransformer model = ml.StructuredPrediction().Trainers.Perturbed(head, new() { NumberOfIterations = 2 }).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        Assert.DoesNotContain("TestNeverRegistered", PerturbedHeads.Names);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        Exception e = Assert.ThrowsAny<Exception>(() => fresh.Model.Load(stream, out _));
        Exception inner = e is System.Reflection.TargetInvocationException { InnerException: { } i } ? i : e;
        Assert.IsType<FormatException>(inner);
        Assert.Contains("The model uses the head 'TestNeverRegistered', which is not registered in this process", inner.Message);
        Assert.Contains("PerturbedHeads.RegisterOracle(\"TestNeverRegistered\", …)", inner.Message);
        // Registering it makes the model load; a built-in head's name cannot be taken.
        PerturbedHeads.RegisterOracle("TestNeverRegistered", d => Oracle.Create(d, d, HeadContractTests.BestPair, "BestPair"));
        stream.Position = 0;
        Assert.Equal(model.Transform(data).GetColumn<float[]>("Prediction").ToArray(), fresh.Model.Load(stream, out _).Transform(data).GetColumn<float[]>("Prediction").ToArray());
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => PerturbedHeads.RegisterOracle("Ranking", d => Oracle.Create(d, d, HeadContractTests.BestPair, "BestPair"))).ParamName);
    }
}
