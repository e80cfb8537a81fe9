using System.Numerics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Perturbed;

/// <summary>Argument checks shared by the core; messages name the argument, the row and what was expected.</summary>
internal static class Guard
{
    /// <summary>Number of rows in a batch of <paramref name="rowLength"/>-long rows; throws when the length is not a positive multiple.</summary>
    public static int RowCount(int length, int rowLength, string paramName)
    {
        if (length == 0 || length % rowLength != 0)
        {
            throw new ArgumentException(
                $"Expected a non-empty [batch × {rowLength}] row-major buffer, got {length} values, which is not a positive multiple of {rowLength}.",
                paramName);
        }
        return length / rowLength;
    }

    /// <summary>Checks a <c>[rows × rowLength]</c> buffer; the message is only formatted on failure (no allocation otherwise).</summary>
    public static void Rows(int length, int rows, int rowLength, string paramName)
    {
        if (length != rows * rowLength)
        {
            throw new ArgumentException($"Expected {rows * rowLength} values ({rows} rows × {rowLength}), got {length}.", paramName);
        }
    }

    /// <summary>Checks a buffer length; <paramref name="shape"/> must be a constant so that no string is built per call.</summary>
    public static void Length(int length, int expected, string paramName, string shape)
    {
        if (length != expected)
        {
            throw new ArgumentException($"Expected {expected} values ({shape}), got {length}.", paramName);
        }
    }

    /// <summary>Throws naming the first row and column holding NaN or ±∞.</summary>
    public static void Finite<T>(ReadOnlySpan<T> values, int rowLength, string paramName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Fast path: x − x is 0 for finite x and NaN for NaN and ±∞.
        int start = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<T>> blocks = MemoryMarshal.Cast<T, Vector<T>>(values);
            int k = 0;
            for (; k < blocks.Length; k++)
            {
                if (!Vector.EqualsAll(blocks[k] - blocks[k], Vector<T>.Zero))
                {
                    break;
                }
            }
            start = k * Vector<T>.Count;
        }
        for (int i = start; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                throw new ArgumentException(
                    $"Expected finite values, found {values[i]} at row {i / rowLength}, column {i % rowLength}.", paramName);
            }
        }
    }

    /// <summary>The number of items of a list that must not be null or empty (for a base-constructor argument), naming the list.</summary>
    public static int NonEmpty<T>(IReadOnlyCollection<T>? items, string paramName, string what)
    {
        ArgumentNullException.ThrowIfNull(items, paramName);
        return items.Count > 0 ? items.Count : throw new ArgumentException($"'{paramName}' is empty: expected at least one {what}.", paramName);
    }

    public static void Positive(int value, string paramName)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be at least 1.");
        }
    }
}
