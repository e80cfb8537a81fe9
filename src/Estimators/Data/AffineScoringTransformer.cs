using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Training;

namespace Microsoft.ML.Perturbed.Estimators.Data;

/// <summary>
/// Base of the trained models: reads a features column, computes the scores θ = g(x) once per row (an affine model or
/// an MLP), and derives its output columns from θ (<see cref="Decode"/>). Scoring is plain managed code; the score model
/// saves with <see cref="WriteAffine"/> / <see cref="ReadAffine"/>.
/// </summary>
public abstract class AffineScoringTransformer : RowMappingTransformer
{
    private protected AffineScoringTransformer(IScoreModel model, string featureColumnName)
    {
        Model = model;
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The features column the model reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The score model: an <see cref="AffineModel"/> θ = W x + b, or an <see cref="MlpModel"/>.</summary>
    public IScoreModel Model { get; }

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
        VectorColumns.Require(inputSchema, FeatureColumnName, Model.Features);
        return Outputs(inputSchema);
    }

    private protected sealed override RowComputer CreateComputer(DataViewRow input) => new Computer(this, input);

    /// <summary>
    /// The ONNX nodes of θ = g(x) on the features column, float [batch × d]: each affine layer in double (the features and
    /// weights cast up, so the products and sums are exact to double before the one rounding to float that our scoring also
    /// ends each layer with), ReLU between layers of an MLP.
    /// </summary>
    private protected string ScoresOnnx(OnnxGraph graph)
    {
        IReadOnlyList<AffineModel> layers = Layers;
        string x = graph.Input(FeatureColumnName);
        for (int l = 0; l < layers.Count; l++)
        {
            AffineModel layer = layers[l];
            int p = layer.Features, d = layer.Outputs;
            var transposed = new double[p * d];
            ReadOnlySpan<float> w = layer.Weights;
            for (int k = 0; k < d; k++)
            {
                for (int j = 0; j < p; j++) transposed[j * d + k] = w[k * p + j];
            }
            double[] bias = layer.Bias.ToArray().Select(b => (double)b).ToArray();
            string product = graph.Node("MatMul", [graph.Cast(x, OnnxType.Double), graph.Constant(transposed, p, d)]);
            x = graph.Cast(graph.Node("Add", [product, graph.Constant(bias, d)]), OnnxType.Float);
            if (l < layers.Count - 1) x = graph.Node("Relu", [x]);
        }
        return x;
    }

    private IReadOnlyList<AffineModel> Layers => Model switch
    {
        AffineModel affine => [affine],
        MlpModel mlp => mlp.Layers,
        _ => throw new NotSupportedException($"A score model of type {Model.GetType().Name} has no saved or ONNX form; use AffineModel or MlpModel."),
    };

    /// <summary>Writes the features column name and the score model: a layer count (1 for affine), then each layer.</summary>
    private protected void WriteAffine(BinaryWriter w)
    {
        w.Write(FeatureColumnName);
        IReadOnlyList<AffineModel> layers = Layers;
        w.Write(Model is MlpModel);
        w.Write(layers.Count);
        foreach (AffineModel layer in layers)
        {
            w.Write(layer.Features);
            w.Write(layer.Outputs);
            foreach (float v in layer.Weights) w.Write(v);
            foreach (float v in layer.Bias) w.Write(v);
        }
    }

    /// <summary>Reads what <see cref="WriteAffine"/> wrote; throws <see cref="FormatException"/> on implausible sizes.</summary>
    private protected static (IScoreModel Model, string FeatureColumnName) ReadAffine(BinaryReader r)
    {
        string feature = r.ReadString();
        bool mlp = r.ReadBoolean();
        int count = r.ReadInt32();
        if (count < 1 || count > 64 || (!mlp && count != 1))
        {
            throw new FormatException($"The saved score model claims {count} layers.");
        }
        var layers = new AffineModel[count];
        for (int l = 0; l < count; l++)
        {
            int p = r.ReadInt32(), d = r.ReadInt32();
            if (p < 1 || d < 1 || (long)p * d > 100_000_000)
            {
                throw new FormatException($"The saved model claims a layer of {d} outputs × {p} features.");
            }
            var weights = new float[d * p];
            var bias = new float[d];
            for (int i = 0; i < weights.Length; i++) weights[i] = r.ReadSingle();
            for (int i = 0; i < d; i++) bias[i] = r.ReadSingle();
            layers[l] = new AffineModel(weights, bias);
        }
        return (mlp ? new MlpModel(layers) : layers[0], feature);
    }

    /// <summary>Computes θ and every output once per row, on first use.</summary>
    private sealed class Computer : RowComputer
    {
        private readonly AffineScoringTransformer _parent;
        private readonly DataViewRow _input;
        private ValueGetter<VBuffer<float>>? _features;   // created on first use: a cursor that needs none of our outputs has the features inactive
        private readonly float[] _x, _theta;
        private readonly float[][] _outputs;
        private VBuffer<float> _buffer;
        private long _computedAt = -1;

        public Computer(AffineScoringTransformer parent, DataViewRow input)
        {
            _parent = parent;
            _input = input;
            _x = new float[parent.Model.Features];
            _theta = new float[parent.Model.Outputs];
            _outputs = parent.OutputLengths.Select(n => new float[n]).ToArray();
        }

        public override Delegate GetGetter(int output) => _parent.OutputGetter(output, () =>
        {
            if (_computedAt != _input.Position || _computedAt < 0)
            {
                _features ??= _input.GetGetter<VBuffer<float>>(_input.Schema[_parent.FeatureColumnName]);
                _features(ref _buffer);
                if (_buffer.Length != _x.Length)
                {
                    throw new InvalidOperationException($"Column '{_parent.FeatureColumnName}' holds a vector of {_buffer.Length} slots at row {_input.Position}, expected {_x.Length}.");
                }
                if (_buffer.GetValues().IndexOfAnyExceptInRange(float.MinValue, float.MaxValue) >= 0)
                {
                    // A missing feature gives missing outputs (NaN scores, key 0), as ML.NET's predictors do, not an exception.
                    foreach (float[] o in _outputs) Array.Fill(o, float.NaN);
                }
                else
                {
                    if (!_buffer.IsDense && _parent.Model is ISparseScoreModel sparse)
                    {
                        sparse.ScoreSparse(_buffer.GetIndices(), _buffer.GetValues(), _theta);   // a wide sparse row costs its non-zeros
                    }
                    else
                    {
                        _buffer.CopyTo(_x);
                        _parent.Model.Score(_x, _theta);
                    }
                    _parent.Decode(_theta, _outputs);
                }
                _computedAt = _input.Position;
            }
            return _outputs[output];
        });
    }
}
