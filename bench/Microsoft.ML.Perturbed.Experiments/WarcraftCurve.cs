namespace Microsoft.ML.Perturbed.Experiments;

/// <summary>
/// One training run of the Warcraft-style experiment (<see cref="WarcraftExperiment"/>): per epoch (index 0 = after epoch 1)
/// the test maps' share of cost-optimal predicted paths, share of predicted paths equal to the labelled one, and mean cost
/// ratio ⟨c*, y(ĉ)⟩/⟨c*, y*⟩; and the final model's cell cost error on the test maps
/// (<see cref="WarcraftExperiment.CellError"/>).
/// </summary>
public sealed record WarcraftCurve(string Method, int Size, int Seed, double[] CostOptimal, double[] ExactPath, double[] CostRatio, double Seconds, double CellError = double.NaN);
