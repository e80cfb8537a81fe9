namespace Microsoft.ML.Perturbed.Estimators.Structured;

/// <summary>
/// Options of the top-k and matching trainers: labels are 0/1 vectors (k ones for top-k; an n×n permutation matrix,
/// row-major, for matching); for decision heads solutions or true costs (see <see cref="Training.LabelKind"/>).
/// </summary>
public sealed class PerturbedStructuredOptions : PerturbedTrainerOptions
{
}
