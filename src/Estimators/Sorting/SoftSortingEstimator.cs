using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>
/// Estimator of a <see cref="SoftSortingTransformer"/>. <c>Fit</c> checks the columns and, for quantile normalization
/// to <see cref="QuantileTarget.Learned"/> targets, learns them: the mean of the training rows sorted ascending.
/// </summary>
public sealed class SoftSortingEstimator : IEstimator<SoftSortingTransformer>
{
    private const string SlotNames = "SlotNames";   // ML.NET's annotation kind (AnnotationUtils.Kinds.SlotNames is internal)

    private readonly SoftSortingSettings _settings;
    private readonly InputOutputColumnPair[] _columns;
    private readonly QuantileTarget _target;
    private readonly double[]? _targetValues;

    private readonly IHostEnvironment? _env;

    internal SoftSortingEstimator(SoftSortingOperation operation, SoftSortingOptions options, IHostEnvironment? env = null)
    {
        _env = env;
        ArgumentNullException.ThrowIfNull(options);
        _settings = SoftSortingSettings.From(operation, options);
        _settings.Validate();
        if (options.Columns is not { Length: > 0 } || options.Columns.Any(c => string.IsNullOrWhiteSpace(c.OutputColumnName) || string.IsNullOrWhiteSpace(c.InputColumnName)))
        {
            throw new ArgumentException("At least one output/input column pair with non-empty names is required.", nameof(options));
        }
        if (!Enum.IsDefined(options.Target))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Target, "Unknown quantile target.");
        }
        if (operation == SoftSortingOperation.QuantileNormalize && options.Target == QuantileTarget.Custom
            && (options.TargetValues is not { Length: > 0 } values || values.Any(v => !double.IsFinite(v))))
        {
            throw new ArgumentException($"'{nameof(options.TargetValues)}' must hold finite target values when '{nameof(options.Target)}' is Custom.", nameof(options));
        }
        _columns = options.Columns.ToArray();
        _target = options.Target;
        _targetValues = options.TargetValues?.ToArray();
    }

    /// <summary>Checks the input columns, learns quantile targets if asked to, and returns the transformer.</summary>
    public SoftSortingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int[] sizes = _columns.Select(c => ((VectorDataViewType)VectorColumns.Require(input.Schema, c.InputColumnName).Type).Size).ToArray();
        double[]?[] targets = new double[_columns.Length][];
        if (_settings.Operation == SoftSortingOperation.QuantileNormalize)
        {
            double[]?[] learned = _target == QuantileTarget.Learned ? LearnTargets(input, sizes) : new double[_columns.Length][];
            for (int i = 0; i < _columns.Length; i++)
            {
                targets[i] = _target switch
                {
                    QuantileTarget.Uniform => QuantileTargets.Uniform(sizes[i]),
                    QuantileTarget.Normal => QuantileTargets.Normal(sizes[i]),
                    QuantileTarget.Learned => learned[i],
                    QuantileTarget.Custom => _targetValues!.Length == sizes[i] ? _targetValues
                        : throw new ArgumentException($"'{nameof(SoftSortingOptions.TargetValues)}' holds {_targetValues.Length} values but column '{_columns[i].InputColumnName}' has {sizes[i]} slots."),
                    _ => throw new InvalidOperationException($"Unknown quantile target {_target}."),
                };
            }
        }
        var infos = _columns.Select((c, i) => new SoftSortingTransformer.ColumnInfo(_settings, c.OutputColumnName, c.InputColumnName, sizes[i], targets[i])).ToArray();
        return new SoftSortingTransformer(_settings, infos, _env);
    }

    /// <summary>Mean of the sorted rows of each input column; every value must be finite and there must be rows.</summary>
    private double[]?[] LearnTargets(IDataView input, int[] sizes)
    {
        var sums = sizes.Select(n => new double[n]).ToArray();
        DataViewSchema.Column[] columns = _columns.Select(c => input.Schema[c.InputColumnName]).ToArray();
        long rows = 0;
        using (DataViewRowCursor cursor = input.GetRowCursor(columns.Distinct()))
        {
            var getters = columns.Select(c => cursor.GetGetter<VBuffer<float>>(c)).ToArray();
            VBuffer<float> buffer = default;
            var dense = sizes.Select(n => new float[n]).ToArray();
            while (cursor.MoveNext())
            {
                for (int i = 0; i < columns.Length; i++)
                {
                    getters[i](ref buffer);
                    Data.VectorColumns.ReadFinite(buffer, dense[i], columns[i].Name, cursor.Position, "learning quantile targets");
                    Array.Sort(dense[i]);
                    for (int k = 0; k < dense[i].Length; k++) sums[i][k] += dense[i][k];
                }
                rows++;
            }
        }
        if (rows == 0)
        {
            throw new InvalidOperationException(
                $"Cannot learn quantile targets for column '{_columns[0].InputColumnName}': the training data has no rows.");
        }
        return sums.Select(s => (double[]?)s.Select(v => v / rows).ToArray()).ToArray();
    }

    /// <summary>The schema after the transform: the input columns and one known-size Single vector per output column.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var outputs = new DataViewSchema.Builder();
        foreach (InputOutputColumnPair pair in _columns)
        {
            SchemaShape.Column column = SchemaShapes.RequireSingleVector(inputSchema, pair.InputColumnName);
            bool slotNames = _settings.Operation != SoftSortingOperation.Sort && column.Annotations.Any(a => a.Name == SlotNames);
            outputs.AddColumn(pair.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, 1), slotNames ? SchemaShapes.TextAnnotation(SlotNames) : null);
        }
        return SchemaShapes.Append(inputSchema, outputs);
    }
}
