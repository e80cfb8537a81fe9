using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Data;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>
/// SUQUAN in ML.NET (<see cref="SupervisedQuantileNormalization"/>): <c>Fit</c> reads the features and labels, learns the
/// quantile function f and the logistic model jointly, and returns the chain of ML.NET components that applies them: a
/// hard <see cref="SoftSortingTransformer"/> (quantile normalization to f, ties sharing the mean of their targets; its
/// <see cref="SoftSortingTransformer.GetTargets"/> reads f back) writing the normalized column, then ML.NET's own linear
/// predictor with the learned weights on that column. Both save, load and export to ONNX as those components do, so the
/// model needs no format of its own.
/// </summary>
/// <typeparam name="TPredictor">ML.NET's predictor transformer of the task.</typeparam>
internal abstract class SupervisedQuantileTrainer<TPredictor> : IEstimator<TransformerChain<TPredictor>> where TPredictor : class, ITransformer
{
    private readonly IEstimator<ITransformer> _announcer;

    private protected SupervisedQuantileTrainer(IHostEnvironment env, SupervisedQuantileSettings settings, IEstimator<ITransformer> announcer)
    {
        ArgumentNullException.ThrowIfNull(env);
        settings.Validate();
        Host = env.Register("SupervisedQuantileNormalization");
        Settings = settings;
        _announcer = announcer;
    }

    private protected IHost Host { get; }

    private protected SupervisedQuantileSettings Settings { get; }

    /// <summary>The label's number of model outputs (1: binary logistic; k: multinomial); throws in ML.NET's wording for a wrong type.</summary>
    private protected abstract int BindLabel(DataViewSchema.Column label);

    /// <summary>A reader of the current row's class (−1: a missing label).</summary>
    private protected abstract Func<int> LabelReader(DataViewRow row, DataViewSchema.Column label);

    /// <summary>ML.NET's predictor with the learned weights, reading the normalized column of <paramref name="schema"/>.</summary>
    private protected abstract TPredictor CreatePredictor(SupervisedQuantileModel model, DataViewSchema schema, DataViewSchema.Column label);

    /// <summary>Learns f and the linear model, and returns [quantile normalization to f, ML.NET's predictor].</summary>
    public TransformerChain<TPredictor> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        DataViewSchema.Column features = VectorColumns.Require(input.Schema, Settings.FeatureColumnName);
        int n = ((VectorDataViewType)features.Type).Size;
        if (n < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Schema mismatch for input column '{features.Name}': expected a vector of at least 2 slots (quantile normalization ranks them), got {features.Type}");
        }
        DataViewSchema.Column label = input.Schema.GetColumnOrNull(Settings.LabelColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(input), $"Could not find input column '{Settings.LabelColumnName}'");
        int outputs = BindLabel(label);
        (float[] x, int[] y) = Read(input, features, label, n);
        SupervisedQuantileModel model = SupervisedQuantileNormalization.Fit(x, y, n, outputs, Settings.CoreOptions(n));
        using (IChannel channel = Host.Start("SUQUAN"))
        {
            channel.Info(MessageSensitivity.None, $"SUQUAN: {y.Length} rows, {model.Alternations} alternations; objective " +
                string.Join(" → ", model.Objective.Select(v => v.ToString("G6", CultureInfo.InvariantCulture))));
        }
        var normalize = new SoftSortingEstimator(SoftSortingOperation.QuantileNormalize, new SoftSortingOptions
        {
            Columns = [new(Settings.NormalizedColumnName, Settings.FeatureColumnName)], Epsilon = 0, Target = QuantileTarget.Custom,
            TargetValues = model.QuantileFunction,
        }, Host).Fit(input);
        DataViewSchema normalized = normalize.GetOutputSchema(input.Schema);
        return new TransformerChain<TPredictor>(normalize, CreatePredictor(model, normalized, normalized[label.Name]));
    }

    /// <summary>The rows with finite features and a label; the others are skipped and counted (or refused with ThrowOnMissingValues).</summary>
    private (float[] X, int[] Y) Read(IDataView input, DataViewSchema.Column features, DataViewSchema.Column label, int n)
    {
        var x = new List<float>();
        var y = new List<int>();
        long skipped = 0;
        string? first = null;
        using (DataViewRowCursor cursor = input.GetRowCursor(features.Index == label.Index ? [features] : [features, label]))
        {
            ValueGetter<VBuffer<float>> getter = cursor.GetGetter<VBuffer<float>>(features);
            Func<int> readLabel = LabelReader(cursor, label);
            VBuffer<float> buffer = default;
            var dense = new float[n];
            while (cursor.MoveNext())
            {
                getter(ref buffer);
                try
                {
                    VectorColumns.ReadFinite(buffer, dense, features.Name, cursor.Position, "SUQUAN training", skippable: true);
                    int c = readLabel();
                    if (c < 0)
                    {
                        throw new MissingValueException($"Column '{label.Name}' holds a missing label at row {cursor.Position}: SUQUAN training needs a class.");
                    }
                    x.AddRange(dense);
                    y.Add(c);
                }
                catch (MissingValueException e) when (!Settings.ThrowOnMissingValues)
                {
                    skipped++;
                    first ??= e.Message;
                }
            }
        }
        if (skipped > 0)
        {
            using IChannel channel = Host.Start("SUQUAN");
            channel.Warning(MessageSensitivity.None, $"Training: skipped {skipped} of {skipped + y.Count} rows with missing values (NaN or ∞ features, or a missing label), " +
                $"as ML.NET's trainers do; first: {first} Set throwOnMissingValues to fail on them instead.");
        }
        if (y.Count == 0)
        {
            throw new InvalidOperationException(skipped > 0
                ? $"SUQUAN training: every one of the {skipped} rows has a missing value; first: {first}"
                : "SUQUAN training: the training data has no rows.");
        }
        return (x.ToArray(), y.ToArray());
    }

    /// <summary>The input columns, the normalized column, then the predictor's columns (as ML.NET's logistic trainers announce them).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape normalized = new SoftSortingEstimator(SoftSortingOperation.QuantileNormalize, new SoftSortingOptions
        {
            Columns = [new(Settings.NormalizedColumnName, Settings.FeatureColumnName)], Epsilon = 0,
        }).GetOutputSchema(inputSchema);
        return _announcer.GetOutputSchema(normalized);
    }
}
