using System.Numerics;
using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Threading;

namespace Microsoft.ML.Perturbed.Sorting;

internal enum RowMode
{
    Forward,
    Vjp,
    Jvp,
}
