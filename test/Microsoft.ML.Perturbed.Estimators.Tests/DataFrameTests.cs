using Microsoft.Data.Analysis;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>Microsoft.Data.Analysis data frames in and out (README, "Data frames"): the README's code, run.</summary>
public class DataFrameTests
{
    [Fact]
    public void A_data_frame_trains_a_perturbed_classifier_and_receives_its_predictions()
    {
        var rng = new System.Random(3);
        int n = 90;
        string[] names = ["setosa", "versicolor", "virginica"];
        // README "Data frames" begins: a DataFrame with two measurements and a species per row.
        var frame = new DataFrame(
            new PrimitiveDataFrameColumn<float>("Length", Enumerable.Range(0, n).Select(i => (float)(i % 3 * 2 + rng.NextDouble()))),
            new PrimitiveDataFrameColumn<float>("Width", Enumerable.Range(0, n).Select(i => (float)(i % 3 + rng.NextDouble()))),
            new StringDataFrameColumn("Species", Enumerable.Range(0, n).Select(i => names[i % 3])));

        var ml = new MLContext(seed: 1);
        var pipeline = ml.Transforms.Concatenate("Features", "Length", "Width")
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Species"))
            .Append(ml.MulticlassClassification.Trainers.PerturbedFenchelYoung(numberOfIterations: 50, learningRate: 0.1))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedSpecies", "PredictedLabel"));
        ITransformer model = pipeline.Fit(frame);                                    // a DataFrame is an IDataView
        DataFrame predicted = model.Transform(frame).ToDataFrame("PredictedSpecies", "Score");
        frame["PredictedSpecies"] = predicted["PredictedSpecies"];                   // predictions back into the frame
        // README "Data frames" ends.

        Assert.Equal(n, frame.Rows.Count);
        Assert.Equal(4, frame.Columns.Count);
        long right = frame.Rows.Count(r => (string)r["Species"] == (string)r["PredictedSpecies"]);
        Assert.True(right >= 0.9 * n, $"{right} of {n} right");
        // The scores come back as one vector per row (a VBuffer column), softmax probabilities summing to 1.
        DataFrameColumn scores = predicted["Score"];
        Assert.Equal(n, scores.Length);
        var first = (Microsoft.ML.Data.VBuffer<float>)scores[0]!;
        Assert.Equal(1f, first.DenseValues().Sum(), 4);
    }
}
