using Microsoft.ML.Perturbed.Numerics;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Tests.Training;

public class AffineModelKernelTests
{
    [Theory]
    [InlineData(20, 10, 7)]
    [InlineData(64, 64, 33)]
    [InlineData(13, 37, 5)]
    public void Scores_and_gradients_are_the_row_by_row_loops_bit_for_bit(int features, int outputs, int batch)
    {
        // The blocked kernels (four outputs per pass when scoring, output blocks over the batch in the backward pass)
        // keep every element's terms in the row-by-row order: the same bits, so earlier results reproduce exactly.
        var rng = new System.Random(features * outputs);
        float[] F(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] w = F(outputs * features), b = F(outputs), x = F(batch * features), g = F(batch * outputs);
        for (int i = 0; i < g.Length; i += 5) g[i] = 0;   // skipped terms, as after a ReLU′
        var model = new AffineModel(w, b);
        var scores = new float[batch * outputs];
        model.Score(x, scores);
        var gradient = new double[w.Length + b.Length];
        var inputGradient = new float[batch * features];
        model.BackwardInto(x, g, gradient, inputGradient);
        var expectedGradient = new double[gradient.Length];
        var expectedInput = new float[inputGradient.Length];
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> xr = x.AsSpan(r * features, features);
            for (int k = 0; k < outputs; k++)
            {
                Assert.Equal((float)(SpanMath.Dot(w.AsSpan(k * features, features), xr) + b[k]), scores[r * outputs + k]);
                double gk = g[r * outputs + k];
                if (gk == 0) continue;
                SpanMath.AddScaled(expectedGradient.AsSpan(k * features, features), xr, gk);
                expectedGradient[outputs * features + k] += gk;
                for (int j = 0; j < features; j++) expectedInput[r * features + j] += (float)(gk * w[k * features + j]);
            }
        }
        Assert.Equal(expectedGradient, gradient);
        Assert.Equal(expectedInput, inputGradient);
    }
}
