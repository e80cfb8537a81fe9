using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>Estimator of a <see cref="KendallEmbeddingTransformer"/>: <c>Fit</c> checks the input column and learns nothing.</summary>
internal sealed class KendallEmbeddingEstimator : IEstimator<ITransformer>
{
    private readonly string _output, _input;
    private readonly IHostEnvironment? _env;

    internal KendallEmbeddingEstimator(string outputColumnName, string inputColumnName, IHostEnvironment? env = null)
    {
        if (string.IsNullOrWhiteSpace(outputColumnName)) throw new ArgumentException("The output column name must not be empty.", nameof(outputColumnName));
        if (string.IsNullOrWhiteSpace(inputColumnName)) throw new ArgumentException("The input column name must not be empty.", nameof(inputColumnName));
        _output = outputColumnName;
        _input = inputColumnName;
        _env = env;
    }

    /// <summary>Checks the input column (a known-size vector of Single with 2 to 5793 slots) and returns the transformer.</summary>
    public ITransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int size = ((VectorDataViewType)VectorColumns.Require(input.Schema, _input).Type).Size;
        return new KendallEmbeddingTransformer(_output, _input, CheckedSize(size), _env);
    }

    /// <summary>The schema after the transform: the input columns and the known-size Single vector of the output.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireSingleVector(inputSchema, _input);
        var outputs = new DataViewSchema.Builder();
        outputs.AddColumn(_output, new VectorDataViewType(NumberDataViewType.Single, 1));
        return SchemaShapes.Append(inputSchema, outputs);
    }

    private int CheckedSize(int size)
    {
        if (size < 2 || (long)size * (size - 1) / 2 > PermutationKernels.MaxEmbeddingLength)
        {
            throw new ArgumentOutOfRangeException("schema",
                $"Schema mismatch for input column '{_input}': the Kendall embedding needs 2 to 5793 slots (at most {PermutationKernels.MaxEmbeddingLength} pairs), got {size}.");
        }
        return size;
    }
}
