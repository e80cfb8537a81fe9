namespace Microsoft.ML.Perturbed.Threading;

/// <summary>Processes rows [<paramref name="start"/>, <paramref name="end"/>) of the batch that <paramref name="batch"/> describes.</summary>
/// <typeparam name="TBatch">What one call needs: the owner, the row-major buffers (as pointers) and the call's options.</typeparam>
internal delegate void RowRange<TBatch>(in TBatch batch, int start, int end) where TBatch : struct;
