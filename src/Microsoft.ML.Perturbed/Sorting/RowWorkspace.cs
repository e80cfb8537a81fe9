namespace Microsoft.ML.Perturbed.Sorting;

/// <summary>Per-thread buffers of one row of a <see cref="RowOperator"/>; operators derive to add their own.</summary>
internal class RowWorkspace
{
    public RowWorkspace(int dimension, int outputDimension)
    {
        int both = Math.Max(dimension, outputDimension);
        Input = new double[dimension];
        Output = new double[outputDimension];
        Direction = new double[both];
        Derivative = new double[both];
    }

    public double[] Input { get; }

    /// <summary>True when the inputs came from single precision (every value is exactly a float).</summary>
    public bool SingleInput { get; set; }

    public double[] Output { get; }

    /// <summary>The cotangent (VJP, output length) or the tangent (JVP, input length).</summary>
    public double[] Direction { get; }

    /// <summary>Jᵀg (VJP, input length) or J t (JVP, output length).</summary>
    public double[] Derivative { get; }
}
