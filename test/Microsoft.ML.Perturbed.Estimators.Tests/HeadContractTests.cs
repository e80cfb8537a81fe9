using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Evaluation;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Oracles;
using Microsoft.ML.Perturbed.Training;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// The ML.NET estimator contract, run for every head of the one trainer (after ML.NET's TestEstimatorCore): schema
/// propagation, fit/transform, PredictionEngine, save → load in a fresh context with identical outputs, bad label rows
/// named, and the head learning its task.
/// </summary>
public class HeadContractTests(ITestOutputHelper output)
{
    private sealed class Example
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
    }

    /// <summary>A registered head: a factory, and data whose labels an affine model of the features can fit.</summary>
    public sealed record HeadCase(string Name, Func<PerturbedHead> Create, Func<MLContext, int, IDataView> Data, StructuredLossKind Loss = StructuredLossKind.FenchelYoung)
    {
        public override string ToString() => Name;
    }

    private const int P = 6;

    private static IDataView Load(MLContext ml, IEnumerable<Example> rows, int labelSize)
    {
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, P);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, labelSize);
        return ml.Data.LoadFromEnumerable(rows.ToList(), definition);
    }

    /// <summary>Rows whose true scores are an affine function of the features; the label is the head's solution (or the scores themselves).</summary>
    internal static IDataView Linear(MLContext ml, int n, int d, Oracle oracle, bool costs, int seed, Func<float[], float[]>? transform = null)
    {
        var rng = new System.Random(seed);
        var w = new float[d * P];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        var rows = new List<Example>();
        for (int r = 0; r < n; r++)
        {
            float[] x = Enumerable.Range(0, P).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] s = Enumerable.Range(0, d).Select(k => Enumerable.Range(0, P).Sum(j => w[k * P + j] * x[j])).ToArray();
            if (transform is not null) s = transform(s);
            var y = new float[d];
            oracle.Solve(s, y);
            rows.Add(new Example { Features = x, Label = costs ? s : y });
        }
        return Load(ml, rows, d);
    }

    public static TheoryData<HeadCase> Heads()
    {
        var grid = DagShortestPathOracle.Grid(3, 3);
        return new TheoryData<HeadCase>
        {
            new HeadCase("Ranking", () => PerturbedHeads.Ranking(), (ml, s) => Ranks(ml, s)),
            new HeadCase("TopK(2)", () => PerturbedHeads.TopK(2), (ml, s) => Linear(ml, 200, 6, new TopKOracle(6, 2), false, s)),
            new HeadCase("Matching(3)", () => PerturbedHeads.Matching(3), (ml, s) => Linear(ml, 200, 9, new MatchingOracle(3), false, s)),
            new HeadCase("ShortestPath(paths)", () => PerturbedHeads.ShortestPath(grid), (ml, s) => Linear(ml, 200, grid.Dimension, grid, false, s, Positive)),
            new HeadCase("ShortestPath(costs, SPO+)", () => PerturbedHeads.ShortestPath(grid, LabelKind.Costs), (ml, s) => Linear(ml, 200, grid.Dimension, grid, true, s, Positive), StructuredLossKind.SpoPlus),
            new HeadCase("ShortestPath(costs, listwise LTR)", () => PerturbedHeads.ShortestPath(grid, LabelKind.Costs), (ml, s) => Linear(ml, 200, grid.Dimension, grid, true, s, Positive), StructuredLossKind.ListwiseRanking),
            new HeadCase("TopK(2, CMAP)", () => PerturbedHeads.TopK(2), (ml, s) => Linear(ml, 200, 6, new TopKOracle(6, 2), false, s), StructuredLossKind.ContrastiveMap),
            new HeadCase("GridPath(costs)", () => PerturbedHeads.GridPath(3, 3, LabelKind.Costs), (ml, s) => Linear(ml, 200, 9, new GridVertexShortestPathOracle(3, 3), true, s, Positive)),
            new HeadCase("Knapsack(costs)", () => PerturbedHeads.Knapsack([2, 3, 1, 4, 2, 3], 6, LabelKind.Costs), (ml, s) => Linear(ml, 200, 6, new KnapsackOracle([2, 3, 1, 4, 2, 3], 6), true, s)),
            new HeadCase("TravelingSalesman(5, tours)", () => PerturbedHeads.TravelingSalesman(5), (ml, s) => Linear(ml, 200, 10, Oracle.TravelingSalesman(5), false, s, Positive)),
            new HeadCase("TravelingSalesman(5, tours, I-MLE)", () => PerturbedHeads.TravelingSalesman(5), (ml, s) => Linear(ml, 200, 10, Oracle.TravelingSalesman(5), false, s, Positive), StructuredLossKind.ImplicitMle),
            new HeadCase("User(best pair)", () => PerturbedHeads.RegisterOracle("TestBestPair", d => Oracle.Create(d, d, BestPair, "BestPair")),
                (ml, s) => Linear(ml, 200, 5, Oracle.Create(5, 5, BestPair, "BestPair"), false, s)),
        };
    }

    private static float[] Positive(float[] s) => s.Select(v => MathF.Exp(0.5f * v)).ToArray();

    internal static void BestPair(ReadOnlySpan<float> theta, Span<float> y)
    {
        int best = 0;
        for (int i = 1; i < theta.Length - 1; i++) if (theta[i] + theta[i + 1] > theta[best] + theta[best + 1]) best = i;
        y.Clear();
        y[best] = y[best + 1] = 1;
    }

    // Rankings with 1 = most preferred: the ranking oracle's ascending ranks r become 5 − r.
    private static IDataView Ranks(MLContext ml, int seed) =>
        Linear(ml, 200, 4, Oracle.Create(4, 4, (s, y) => { new RankingOracle(4).Solve(s, y); for (int i = 0; i < 4; i++) y[i] = 5 - y[i]; }, "Ranks"), false, seed);

    [Theory]
    [MemberData(nameof(Heads))]
    public void Every_head_fits_transforms_propagates_its_schema_predicts_and_round_trips(HeadCase c)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.Cache(c.Data(ml, 1));
        PerturbedTrainer trainer = ml.StructuredPrediction().Trainers.Perturbed(c.Create(), new() { Loss = c.Loss, NumberOfIterations = 40, LearningRate = 0.05, Seed = 2 });
        SchemaShape shape = trainer.GetOutputSchema(ModelPersistence.MlNetInternals.ShapeOf(data.Schema));
        PerturbedPredictionTransformer model = trainer.Fit(data);
        IDataView scored = model.Transform(data);
        foreach (SchemaShape.Column column in shape)
        {
            Assert.True(scored.Schema.GetColumnOrNull(column.Name) is not null, $"{c}: '{column.Name}' announced by GetOutputSchema but not produced");
            foreach (SchemaShape.Column annotation in column.Annotations)
            {
                Assert.True(scored.Schema[column.Name].Annotations.Schema.GetColumnOrNull(annotation.Name) is not null, $"{c}: '{column.Name}' lacks the announced annotation '{annotation.Name}'");
            }
        }
        // Both head outputs announce ML.NET's scorer annotations.
        SchemaShape.Column[] outputs = shape.Where(s => data.Schema.GetColumnOrNull(s.Name) is null).ToArray();
        Assert.Equal(2, outputs.Length);
        foreach (SchemaShape.Column column in outputs)
        {
            Assert.Contains("ScoreColumnKind", column.Annotations.Select(a => a.Name));
            Assert.Contains("ScoreValueKind", column.Annotations.Select(a => a.Name));
        }
        string prediction = model.Transform(data).Schema.Last().Name;
        float[][] predicted = scored.GetColumn<float[]>(prediction).ToArray();
        // The head learned its task: most training rows decoded to the label's solution.
        float[][] labels = scored.GetColumn<float[]>("Label").ToArray();
        Oracle oracle = model.HeadModel.CreateOracle();
        int right = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            float[] truth = labels[r];
            if (model.HeadModel is DecisionHead { Labels: LabelKind.Costs })
            {
                truth = new float[truth.Length];
                oracle.Solve(labels[r], truth);
            }
            if (truth.SequenceEqual(predicted[r])) right++;
        }
        output.WriteLine($"{c}: {right} of {labels.Length} rows exact");
        Assert.True(right >= 0.5 * labels.Length, $"{c}: only {right} of {labels.Length} rows decoded exactly");

        // PredictionEngine (row-to-row mapper).
        var engine = ml.Model.CreatePredictionEngine<Example, Prediction>(model, inputSchemaDefinition: SchemaOf(data));
        Assert.Equal(scored.GetColumn<float[]>("Score").First(), engine.Predict(ml.Data.CreateEnumerable<Example>(data, false).First()).Score);

        // Save → load in a fresh context → identical outputs, as the same transformer type.
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        fresh.ComponentCatalog.RegisterPerturbed();
        ITransformer loaded = fresh.Model.Load(stream, out _);
        Assert.IsType(model.GetType(), loaded);
        Assert.Equal(predicted, loaded.Transform(data).GetColumn<float[]>(prediction).ToArray());
        Assert.Equal(model.HeadModel.Name, ((PerturbedPredictionTransformer)loaded).HeadModel.Name);
    }

    private sealed class Prediction
    {
        public float[] Score { get; set; } = [];
    }

    private static SchemaDefinition SchemaOf(IDataView data)
    {
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = data.Schema["Features"].Type;
        definition["Label"].ColumnType = data.Schema["Label"].Type;
        return definition;
    }

    [Fact]
    public void Bad_labels_are_named_by_column_and_row_for_each_head()
    {
        var ml = new MLContext(seed: 1);
        var grid = DagShortestPathOracle.Grid(2, 2);
        IDataView Rows(int size, params float[][] labels) => Load(ml, labels.Select(l => new Example { Features = new float[P], Label = l }), size);
        Assert.Equal("graph", Assert.Throws<ArgumentException>(() => PerturbedHeads.ShortestPath(Oracle.TopK(4, 2))).ParamName);   // not a graph
        Assert.Contains("row 1 is not a path from node 0 to node 3", Assert.Throws<InvalidOperationException>(() =>
            ml.StructuredPrediction().Trainers.Perturbed(PerturbedHeads.ShortestPath(grid)).Fit(Rows(4, [1, 0, 1, 0], [1, 1, 0, 0]))).Message);
        Assert.Contains("row 0 packs weight 5, above the capacity 4", Assert.Throws<InvalidOperationException>(() =>
            ml.StructuredPrediction().Trainers.Perturbed(PerturbedHeads.Knapsack([2, 3], 4)).Fit(Rows(2, [1, 1]))).Message);
        Assert.Contains("row 0 slot 1 holds the cost -1", Assert.Throws<InvalidOperationException>(() =>
            ml.StructuredPrediction().Trainers.GridShortestPath(1, 2).Fit(Rows(2, [1, -1]))).Message);
        // Two triangles are not a tour of six cities; a city on three edges is not either.
        float[] triangles = new float[15], star = new float[6];
        foreach ((int i, int j) in new[] { (0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5) }) triangles[i * (11 - i) / 2 + j - i - 1] = 1;
        Assert.Contains("row 0 is not a tour: the cycle through city 0 visits 3 of the 6 cities", Assert.Throws<InvalidOperationException>(() =>
            ml.StructuredPrediction().Trainers.Perturbed(PerturbedHeads.TravelingSalesman(6)).Fit(Rows(15, triangles))).Message);
        star[0] = star[1] = star[2] = 1;
        Assert.Contains("row 0 is not a tour: city 0 is on 3 edges, not 2", Assert.Throws<InvalidOperationException>(() =>
            ml.StructuredPrediction().Trainers.Perturbed(PerturbedHeads.TravelingSalesman(4)).Fit(Rows(6, star))).Message);
        Assert.Equal("cities", Assert.Throws<ArgumentOutOfRangeException>(() => PerturbedHeads.TravelingSalesman(17)).ParamName);
        Assert.Contains("expected Vector<Single, 4>", Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.StructuredPrediction().Trainers.Perturbed(PerturbedHeads.ShortestPath(grid)).Fit(Rows(3, [1, 0, 1]))).Message);
        // SPO+ needs true costs: a solution label is refused with the fix.
        Assert.Contains("LabelKind.Costs", Assert.Throws<InvalidOperationException>(() =>
            ml.StructuredPrediction().Trainers.Perturbed(PerturbedHeads.ShortestPath(grid), new() { Loss = StructuredLossKind.SpoPlus }).Fit(Rows(4, [1, 0, 1, 0]))).Message);
        // Options are checked when the trainer is created, each by its own name.
        Assert.Equal("NumberOfIterations", Assert.Throws<ArgumentOutOfRangeException>(() => ml.StructuredPrediction().Trainers.TopK(2, new() { NumberOfIterations = 0 })).ParamName);
        Assert.Equal("Samples", Assert.Throws<ArgumentOutOfRangeException>(() => ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { Samples = 0 })).ParamName);
    }

    [Fact]
    public void Shortest_paths_through_ml_net_lower_the_regret()
    {
        var ml = new MLContext(seed: 1);
        (float[] x, float[] c) = DecisionData.ShortestPath(600, P, degree: 2, noise: 0.5, seed: 1);
        IDataView all = Load(ml, Enumerable.Range(0, 600).Select(r => new Example { Features = x[(r * P)..((r + 1) * P)], Label = c[(r * 40)..((r + 1) * 40)] }), 40);
        IDataView train = ml.Data.TakeRows(all, 400), test = ml.Data.SkipRows(all, 400);
        var results = new List<string>();
        foreach (StructuredLossKind loss in new[] { StructuredLossKind.FenchelYoung, StructuredLossKind.SpoPlus })
        {
            PerturbedPredictionTransformer model = ml.StructuredPrediction().Trainers.ShortestPath(5, 5, LabelKind.Costs,
                new() { Loss = loss, NumberOfIterations = 10, LearningRate = 0.05, Epsilon = 0.5, Samples = 1, Seed = 3 }).Fit(train);
            DecisionMetrics m = ml.StructuredPrediction().EvaluateDecisions(model.Transform(test), model.HeadModel);
            results.Add($"{loss}: normalized regret {m.NormalizedRegret:P2}, exact {m.ExactSolutionRate:P1}");
            Assert.InRange(m.NormalizedRegret, 0, 0.2);
        }
        output.WriteLine(string.Join("; ", results));
    }

    [Fact]
    public void Permutation_feature_importance_ranks_the_informative_features_for_label_ranking_and_any_head()
    {
        // Scores depend on features 0 and 1 only; slots 2..5 are noise.
        var ml = new MLContext(seed: 1);
        var rng = new System.Random(5);
        var rows = new List<Example>();
        var oracle = new RankingOracle(4);
        for (int r = 0; r < 300; r++)
        {
            float[] x = Enumerable.Range(0, P).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] s = [x[0], -x[0], x[1], -x[1] + 0.5f * x[0]];
            var y = new float[4];
            oracle.Solve(s, y);
            rows.Add(new Example { Features = x, Label = y.Select(v => 5 - v).ToArray() });
        }
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, P);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        var names = new VBuffer<ReadOnlyMemory<char>>(P, Enumerable.Range(0, P).Select(i => $"f{i}".AsMemory()).ToArray());
        definition["Features"].AddAnnotation("SlotNames", names, new VectorDataViewType(TextDataViewType.Instance, P));
        IDataView data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows, definition));
        var model = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { NumberOfIterations = 30, Seed = 1 }).Fit(data);
        var importance = ml.LabelRanking().PermutationFeatureImportance(model, data, permutationCount: 2);
        output.WriteLine(string.Join(", ", importance.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value.Spearman.Mean:F3}")));
        Assert.True(importance["f0"].Spearman.Mean < -0.2 && importance["f1"].Spearman.Mean < -0.1);
        for (int i = 2; i < P; i++) Assert.True(Math.Abs(importance[$"f{i}"].Spearman.Mean) < 0.05, $"noise f{i}: {importance[$"f{i}"].Spearman.Mean}");
        // The same engine for any head, with the caller's metric.
        var spearman = ml.StructuredPrediction().PermutationFeatureImportance(model, data, scored => ml.LabelRanking().Evaluate(scored).Spearman);
        Assert.True(spearman["f0"].Change.Mean < -0.2);
    }

    [Fact]
    public void A_validation_fraction_early_stops_from_inside_a_pipeline_and_progress_and_the_log_report_the_stop_and_the_epoch_kept()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        IDataView data = ml.Data.Cache(Ranks(ml, 4));
        var progress = new ProgressRecorder();
        var pipeline = ml.Transforms.NormalizeMeanVariance("Features")
            .Append(ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { NumberOfIterations = 200, LearningRate = 0.5, ValidationFraction = 0.25, EarlyStoppingPatience = 2, Seed = 3, Progress = progress }));
        pipeline.Fit(data);

        // Progress: one report per epoch, in order, with finite losses; the last one says early stopping fired,
        // two epochs (the patience) after the best, which every report from then on names.
        TrainingProgress last = progress.Reports[^1];
        Assert.Equal(Enumerable.Range(1, last.Epoch), progress.Reports.Select(r => r.Epoch));
        Assert.InRange(last.Epoch, 3, 199);   // it stopped early
        Assert.True(last.StoppedEarly);
        Assert.Single(progress.Reports, r => r.StoppedEarly);
        Assert.Equal(last.Epoch - 2, last.BestEpoch);
        Assert.All(progress.Reports, r => Assert.True(double.IsFinite(r.TrainingLoss) && double.IsFinite(r.ValidationLoss)));
        double best = progress.Reports[last.BestEpoch - 1].ValidationLoss;
        Assert.Equal(best, progress.Reports.Min(r => r.ValidationLoss));

        // The log says the same.
        Assert.Single(messages, m => m.EndsWith($"] early stopping at epoch {last.Epoch}: the validation loss has not improved since epoch {last.BestEpoch}", StringComparison.Ordinal));
        Assert.Single(messages, m => m.EndsWith($"] kept the model of epoch {last.BestEpoch} of {last.Epoch} (validation loss {best:G6})", StringComparison.Ordinal));
        Assert.Equal("ValidationFraction", Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { ValidationFraction = 1 })).ParamName);

        // Without validation: every epoch reported, none kept or stopped.
        var plain = new ProgressRecorder();
        ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { NumberOfIterations = 3, Progress = plain }).Fit(data);
        Assert.Equal([1, 2, 3], plain.Reports.Select(r => r.Epoch));
        Assert.All(plain.Reports, r => Assert.True(double.IsNaN(r.ValidationLoss) && r.BestEpoch == 0 && !r.StoppedEarly));
    }

    /// <summary>Records reports synchronously (System.Progress would post them to the thread pool).</summary>
    private sealed class ProgressRecorder : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];

        public void Report(TrainingProgress value) => Reports.Add(value);
    }

    private sealed class Weighted
    {
        public float[] Features { get; set; } = [];
        public float[] Label { get; set; } = [];
        public float Weight { get; set; }
    }

    [Fact]
    public void Example_weights_are_honoured_in_the_loss_and_bad_weights_are_named()
    {
        // Half the rows carry reversed rankings; with weight 0 they must not matter, with weight 1 they hurt.
        var ml = new MLContext(seed: 1);
        var rng = new System.Random(2);
        var oracle = new RankingOracle(4);
        var rows = new List<Weighted>();
        for (int r = 0; r < 400; r++)
        {
            float[] x = Enumerable.Range(0, P).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] s = [x[0], x[1], x[2], x[3]];
            var y = new float[4];
            oracle.Solve(s, y);
            bool corrupt = r % 2 == 1;
            rows.Add(new Weighted { Features = x, Label = y.Select(v => corrupt ? v : 5 - v).ToArray(), Weight = corrupt ? 0 : 1 });
        }
        var definition = SchemaDefinition.Create(typeof(Weighted));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, P);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        IDataView data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows, definition));
        IDataView clean = ml.Data.FilterRowsByColumn(data, "Weight", lowerBound: 0.5);
        double Spearman(string? weights) => ml.LabelRanking().Evaluate(ml.LabelRanking().Trainers.PerturbedFenchelYoung(
            new() { NumberOfIterations = 30, Seed = 1, ExampleWeightColumnName = weights }).Fit(data).Transform(clean)).Spearman;
        double weighted = Spearman("Weight"), unweighted = Spearman(null);
        output.WriteLine($"Spearman on the clean rows: weighted {weighted:F3}, unweighted {unweighted:F3}");
        Assert.True(weighted > 0.9 && weighted > unweighted + 0.3, $"weighted {weighted:F3}, unweighted {unweighted:F3}");
        rows[3].Weight = -1;
        IDataView bad = ml.Data.LoadFromEnumerable(rows, definition);
        Assert.Contains("row 3 holds the weight -1", Assert.Throws<InvalidOperationException>(() =>
            ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { NumberOfIterations = 1, ExampleWeightColumnName = "Weight" }).Fit(bad)).Message);
        Assert.Contains("Could not find weight column 'Nope'", Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { NumberOfIterations = 1, ExampleWeightColumnName = "Nope" }).Fit(bad)).Message);
    }

    [Fact]
    public void Label_slot_names_and_scorer_annotations_carry_to_the_outputs_and_numeric_class_keys_map_back_to_numbers()
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Example));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, P);
        definition["Label"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        var names = new VBuffer<ReadOnlyMemory<char>>(3, ["red".AsMemory(), "green".AsMemory(), "blue".AsMemory()]);
        definition["Label"].AddAnnotation("SlotNames", names, new VectorDataViewType(TextDataViewType.Instance, 3));
        var rng = new System.Random(1);
        IDataView data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(_ => new Example
        {
            Features = Enumerable.Range(0, P).Select(_ => (float)rng.NextDouble()).ToArray(),
            Label = new[] { 1f, 2f, 3f }.OrderBy(_ => rng.Next()).ToArray(),
        }).ToList(), definition);
        IDataView scored = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { NumberOfIterations = 2 }).Fit(data).Transform(data);
        foreach (string column in new[] { "Score", "PredictedRanking" })
        {
            VBuffer<ReadOnlyMemory<char>> slots = default;
            scored.Schema[column].GetSlotNames(ref slots);
            Assert.Equal(["red", "green", "blue"], slots.DenseValues().Select(s => s.ToString()));
        }

        // ML.NET's scorer annotations: the kind of task, the role of each column, and a set id one above the input's.
        ITransformer ranker = ml.LabelRanking().Trainers.PerturbedFenchelYoung(new() { NumberOfIterations = 1 }).Fit(data);
        IDataView rescored = ranker.Transform(scored);
        Assert.Equal(("LabelRanking", "Score", 1u), ScorerAnnotations(scored.Schema["Score"]));
        Assert.Equal(("LabelRanking", "PredictedLabel", 1u), ScorerAnnotations(scored.Schema["PredictedRanking"]));
        Assert.Equal(("LabelRanking", "Score", 2u), ScorerAnnotations(rescored.Schema["Score"]));
        Assert.Equal(("LabelRanking", "Score", 1u), ScorerAnnotations(rescored.Schema.Single(c => c.IsHidden && c.Name == "Score")));

        // Multiclass over a numeric label: PredictedLabel carries the label's own numeric key values.
        var rows = Enumerable.Range(0, 60).Select(i => new Digit { Features = Enumerable.Range(0, P).Select(j => j == i % 3 ? 2f : (float)rng.NextDouble()).ToArray(), Value = 10 + i % 3 }).ToList();
        var digitDefinition = SchemaDefinition.Create(typeof(Digit));
        digitDefinition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, P);
        IDataView digits = ml.Data.LoadFromEnumerable(rows, digitDefinition);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Value")
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 20))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedValue", "PredictedLabel"));
        IDataView predicted = pipeline.Fit(digits).Transform(digits);
        Assert.Equal(NumberDataViewType.Single, predicted.Schema["PredictedValue"].Type);
        Assert.Equal(("MulticlassClassification", "Score", 1u), ScorerAnnotations(predicted.Schema["Score"]));
        Assert.Equal(("MulticlassClassification", "PredictedLabel", 1u), ScorerAnnotations(predicted.Schema["PredictedLabel"]));
        float[] values = predicted.GetColumn<float>("PredictedValue").ToArray();
        Assert.True(values.Zip(rows).Count(p => p.First == p.Second.Value) > 50);
    }

    private static (string ColumnKind, string ValueKind, uint SetId) ScorerAnnotations(DataViewSchema.Column column)
    {
        ReadOnlyMemory<char> kind = default, value = default;
        uint setId = 0;
        column.Annotations.GetValue("ScoreColumnKind", ref kind);
        column.Annotations.GetValue("ScoreValueKind", ref value);
        column.Annotations.GetValue("ScoreColumnSetId", ref setId);
        return (kind.ToString(), value.ToString(), setId);
    }

    private sealed class Digit
    {
        public float[] Features { get; set; } = [];
        public float Value { get; set; }
    }
}
