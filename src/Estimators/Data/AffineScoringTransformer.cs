using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// Base of the trained models: reads a features column, computes θ = W x + b once per row, and derives its output
/// columns from θ (<see cref="Decode"/>). Scoring is plain managed code; the affine model saves with
/// <see cref="WriteAffine"/> / <see cref="ReadAffine"/>.
/// </summary>
public abstract class AffineScoringTransformer : RowMappingTransformer
{
    private protected AffineScoringTransformer(AffineModel model, string featureColumnName)
    {
        Model = model;
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The features column the model reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The affine score model θ = W x + b (W: outputs × features, row-major).</summary>
    public AffineModel Model { get; }

    /// <summary>What the output columns are; each is computed into a float buffer of <see cref="OutputLengths"/> per row.</summary>
    private protected abstract OutputColumn[] Outputs(DataViewSchema inputSchema);

    /// <summary>Length of each output buffer.</summary>
    private protected abstract int[] OutputLengths { get; }

    /// <summary>Fills the output buffers from the row's scores θ.</summary>
    private protected abstract void Decode(ReadOnlySpan<float> theta, float[][] outputs);

    /// <summary>The getter of output <paramref name="output"/> reading its buffer; by default a Single vector.</summary>
    private protected virtual Delegate OutputGetter(int output, Func<float[]> compute)
    {
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) => VectorColumns.Write(compute(), ref value);
        return getter;
    }

    private protected sealed override OutputColumn[] GetOutputColumns(DataViewSchema inputSchema)
    {
        Sorting.SoftSortingTransformer.CheckInput(inputSchema, FeatureColumnName, Model.Features);
        return Outputs(inputSchema);
    }

    private protected sealed override RowComputer CreateComputer(DataViewRow input) => new Computer(this, input);

    /// <summary>Writes the features column name and the affine model.</summary>
    private protected void WriteAffine(BinaryWriter w)
    {
        w.Write(FeatureColumnName);
        w.Write(Model.Features);
        w.Write(Model.Outputs);
        foreach (float v in Model.Weights) w.Write(v);
        foreach (float v in Model.Bias) w.Write(v);
    }

    /// <summary>Reads what <see cref="WriteAffine"/> wrote; throws <see cref="FormatException"/> on implausible sizes.</summary>
    private protected static (AffineModel Model, string FeatureColumnName) ReadAffine(BinaryReader r)
    {
        string feature = r.ReadString();
        int p = r.ReadInt32(), d = r.ReadInt32();
        if (p < 1 || d < 1 || (long)p * d > 100_000_000)
        {
            throw new FormatException($"The saved model claims {d} outputs × {p} features.");
        }
        var weights = new float[d * p];
        var bias = new float[d];
        for (int i = 0; i < weights.Length; i++) weights[i] = r.ReadSingle();
        for (int i = 0; i < d; i++) bias[i] = r.ReadSingle();
        return (new AffineModel(weights, bias), feature);
    }

    /// <summary>Computes θ and every output once per row, on first use.</summary>
    private sealed class Computer : RowComputer
    {
        private readonly AffineScoringTransformer _parent;
        private readonly DataViewRow _input;
        private readonly ValueGetter<VBuffer<float>> _features;
        private readonly float[] _x, _theta;
        private readonly float[][] _outputs;
        private VBuffer<float> _buffer;
        private long _computedAt = -1;

        public Computer(AffineScoringTransformer parent, DataViewRow input)
        {
            _parent = parent;
            _input = input;
            _features = input.GetGetter<VBuffer<float>>(input.Schema[parent.FeatureColumnName]);
            _x = new float[parent.Model.Features];
            _theta = new float[parent.Model.Outputs];
            _outputs = parent.OutputLengths.Select(n => new float[n]).ToArray();
        }

        public override Delegate GetGetter(int output) => _parent.OutputGetter(output, () =>
        {
            if (_computedAt != _input.Position || _computedAt < 0)
            {
                _features(ref _buffer);
                VectorColumns.ReadFinite(_buffer, _x, _parent.FeatureColumnName, _input.Position, "scoring");
                _parent.Model.Score(_x, _theta);
                _parent.Decode(_theta, _outputs);
                _computedAt = _input.Position;
            }
            return _outputs[output];
        });
    }
}
