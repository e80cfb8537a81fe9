using Microsoft.ML.Data;
using Microsoft.ML.Perturbed.Estimators.Heads;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Sorting;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.Perturbed.Estimators.Sorting;

/// <summary>
/// SUQUAN for multiclass classification (key label, multinomial logistic loss, one f shared by the classes): the chain
/// ends in ML.NET's maximum-entropy predictor, as <c>LbfgsMaximumEntropy</c> returns it (<c>Score</c> = softmax(W Ψ_f(x) + b),
/// <c>PredictedLabel</c> with the label's key values), so <c>MulticlassClassification.Evaluate</c> applies.
/// </summary>
internal sealed class MulticlassSupervisedQuantileTrainer(IHostEnvironment env, SupervisedQuantileSettings settings, IEstimator<ITransformer> announcer)
    : SupervisedQuantileTrainer<MulticlassPredictionTransformer<MaximumEntropyModelParameters>>(env, settings, announcer)
{
    private protected override int BindLabel(DataViewSchema.Column label) => new MulticlassHead().Bind(label).Dimension;

    private protected override Func<int> LabelReader(DataViewRow row, DataViewSchema.Column label)
    {
        ValueGetter<uint> getter = row.GetGetter<uint>(label);
        uint key = 0;
        return () =>
        {
            getter(ref key);
            return (int)key - 1;   // key 0 is ML.NET's missing value
        };
    }

    private protected override MulticlassPredictionTransformer<MaximumEntropyModelParameters> CreatePredictor(
        SupervisedQuantileModel model, DataViewSchema schema, DataViewSchema.Column label)
    {
        var head = (MulticlassHead)new MulticlassHead().Bind(label);
        int n = model.QuantileFunction.Length;
        return MlNetModels.MaximumEntropy(Host, model.Weights.Select(v => (float)v).ToArray(), model.Bias.Select(v => (float)v).ToArray(),
            model.Outputs, n, head.ClassNames.ToArray(), schema, Settings.NormalizedColumnName, label.Name);
    }
}
