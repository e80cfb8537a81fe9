namespace Microsoft.ML.Perturbed.Estimators.Heads;

/// <summary>Decodes one row's scores θ into the head's output buffers; must be thread-safe.</summary>
internal delegate void HeadDecoder(ReadOnlySpan<float> theta, float[][] outputs);
