// End-to-end demonstration of the core: perturbed ranking of a vector, its Jacobian, and learning scores with
// the Fenchel-Young loss. Run with: dotnet run --project samples/PerturbedRanking -c Release
using System.Globalization;
using Microsoft.ML.Perturbed;
using Microsoft.ML.Perturbed.Losses;
using Microsoft.ML.Perturbed.Noise;
using Microsoft.ML.Perturbed.Oracles;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string Show(ReadOnlySpan<float> v) => "[" + string.Join(", ", v.ToArray().Select(x => x.ToString("F2").PadLeft(5))) + "]";

float[] theta = [2.9f, 0.1f, 1.2f, 3.0f, -0.5f];
var ranking = Oracle.Ranking(theta.Length);   // ascending ranks: the largest score gets rank d
var hard = new float[theta.Length];
ranking.Solve(theta, hard);
Console.WriteLine($"scores θ                    {Show(theta)}");
Console.WriteLine($"hard ranks y*(θ)            {Show(hard)}");

// 1. Perturbed ranks: y*_ε(θ) = E[y*(θ + εZ)] moves smoothly from the hard ranks (small ε) to the mean rank (large ε).
foreach (double eps in new[] { 0.01, 0.1, 0.5, 2.0 })
{
    var optimizer = new PerturbedOptimizer(ranking, new PerturbedOptimizerOptions { Epsilon = eps, Samples = 1000, Seed = 42 });
    var soft = new float[theta.Length];
    var max = new float[1];
    optimizer.Forward(theta, soft, max);
    Console.WriteLine($"perturbed ranks, ε = {eps,-5}   {Show(soft)}   F̂_ε = {max[0]:F2}");
}

// 2. Its Jacobian, column by column (JVP), from the same samples as the forward pass.
var smooth = new PerturbedOptimizer(ranking, new PerturbedOptimizerOptions
{
    Epsilon = 0.5, Samples = 20_000, Seed = 42, VarianceReduction = VarianceReduction.LeaveOneOut,
});
Console.WriteLine("\nJacobian ∂y*_ε/∂θ at ε = 0.5 (rows sum to ≈ 0: ranks always add up to d(d+1)/2):");
var column = new float[theta.Length];
var jacobian = new float[theta.Length, theta.Length];
for (int j = 0; j < theta.Length; j++)
{
    var t = new float[theta.Length];
    t[j] = 1;
    smooth.ForwardJvp(theta, t, new float[theta.Length], column);
    for (int i = 0; i < theta.Length; i++) jacobian[i, j] = column[i];
}
for (int i = 0; i < theta.Length; i++)
{
    Console.WriteLine("  " + Show(Enumerable.Range(0, theta.Length).Select(j => jacobian[i, j]).ToArray()));
}

// 3. Gumbel noise on the simplex gives softmax exactly: y*_ε(θ) = softmax(θ/ε).
var gumbel = new PerturbedOptimizer(Oracle.Argmax(theta.Length),
    new PerturbedOptimizerOptions { Epsilon = 1, Samples = 100_000, Noise = NoiseDistribution.Gumbel, Seed = 42 });
var probabilities = new float[theta.Length];
gumbel.Forward(theta, probabilities);
double lse = Math.Log(theta.Sum(x => Math.Exp(x)));
Console.WriteLine($"\nperturbed argmax (Gumbel)   {Show(probabilities)}");
Console.WriteLine($"softmax(θ)                  {Show(theta.Select(x => (float)Math.Exp(x - lse)).ToArray())}");

// 4. Learning: gradient descent on the Fenchel-Young loss (gradient ŷ_ε(θ) − y) finds scores whose ranking is the target.
float[] target = [1, 5, 2, 4, 3];
var loss = StructuredLoss.FenchelYoung(new PerturbedOptimizer(ranking, new PerturbedOptimizerOptions { Epsilon = 0.3, Samples = 10, Seed = 1 }));
// The reported value F̂ − ⟨θ, y⟩ is a Monte-Carlo estimate; monitor it with many samples and a fixed draw.
var monitor = StructuredLoss.FenchelYoung(new PerturbedOptimizer(ranking, new PerturbedOptimizerOptions { Epsilon = 0.3, Samples = 2000, Seed = 7 }));
var learned = new float[theta.Length];
var gradient = new float[theta.Length];
var value = new float[1];
Console.WriteLine($"\nlearning scores for the target ranking {Show(target)}:");
for (int step = 0; step <= 200; step++)
{
    if (step % 50 == 0)
    {
        monitor.Evaluate(learned, target, value, gradient);
        Console.WriteLine($"  step {step,3}: F̂ − ⟨θ, y⟩ = {value[0],7:F3}   θ = {Show(learned)}");
    }
    loss.Evaluate(learned, target, value, gradient, draw: (ulong)step);   // each step draws fresh noise (M = 10)
    for (int i = 0; i < learned.Length; i++) learned[i] -= 0.2f * gradient[i];
}
ranking.Solve(learned, hard);
Console.WriteLine($"ranking of the learned scores {Show(hard)} (target {Show(target)})");
return hard.SequenceEqual(target) ? 0 : 1;
