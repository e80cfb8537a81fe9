namespace Microsoft.ML.Perturbed.Sorting;

internal enum RowMode
{
    Forward,
    Vjp,
    Jvp,
}
