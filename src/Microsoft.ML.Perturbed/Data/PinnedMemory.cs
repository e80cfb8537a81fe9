using System.Buffers;

namespace Microsoft.ML.Perturbed.Data;

/// <summary>
/// Memory over a span pinned by the caller (<c>fixed</c>), so that the span overloads of the training loop feed an
/// in-memory source without copying. Valid only inside the caller's <c>fixed</c> block.
/// </summary>
internal sealed unsafe class PinnedMemory(float* pointer, int length) : MemoryManager<float>
{
    public override Span<float> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
