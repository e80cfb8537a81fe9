using System.Collections.Immutable;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Microsoft.ML.Perturbed.Estimators.Ranking;
using Microsoft.ML.Runtime;

// ML.NET internal interfaces our components implement (docs/architecture.md, "ML.NET internals"), with the internal
// permutation-feature-importance engine they unlock; reachable through the publicized compile-time references.
namespace Microsoft.ML.Perturbed.Estimators.Heads
{
    /// <summary>ML.NET's internal marker of a single-feature predictor: PermutationFeatureImportance finds our predictor by it.</summary>
    public partial class PerturbedPredictionTransformer : ISingleFeaturePredictionTransformer
    {
    }
}

namespace Microsoft.ML.Perturbed.Estimators.Data
{
    public abstract partial class RowMappingTransformer
    {
        /// <summary>
        /// ML.NET's internal ONNX interfaces on our data view: its converter walks a pipeline's data views back from the
        /// end and asks each step to write itself (docs/architecture.md, "ONNX export"). Without them the walk stopped at our
        /// view, which ML.NET then took for the data source, and <c>ConvertToOnnx</c> wrote our outputs as graph inputs.
        /// </summary>
        private sealed partial class MappedDataView : ITransformCanSaveOnnx
        {
            IDataView IDataTransform.Source => Input;

            // Always true: a component without an ONNX form fails in SaveAsOnnx with its reason rather than being skipped.
            bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

            void ISaveAsOnnx.SaveAsOnnx(OnnxContext ctx) => Parent.SaveOnnx(OnnxGraph.For(ctx, Parent.GetType().Name));

            void ICanSaveModel.Save(ModelSaveContext ctx) =>
                throw new NotSupportedException($"Save the {Parent.GetType().Name} (mlContext.Model.Save), not the data view it produced.");
        }
    }
}

namespace Microsoft.ML.Perturbed.Estimators
{
    /// <summary>Summary statistics of label-ranking metrics over permutations (ML.NET's internal <c>IMetricsStatistics</c>).</summary>
    public sealed class LabelRankingMetricsStatistics : IMetricsStatistics<LabelRankingMetrics>
    {
        internal LabelRankingMetricsStatistics()
        {
        }

        /// <summary>Change of Spearman's ρ.</summary>
        public MetricStatistics Spearman { get; } = new();

        /// <summary>Change of Kendall's τ.</summary>
        public MetricStatistics KendallTau { get; } = new();

        /// <summary>Change of the exact-match rate.</summary>
        public MetricStatistics ExactMatch { get; } = new();

        void IMetricsStatistics<LabelRankingMetrics>.Add(LabelRankingMetrics metrics)
        {
            Spearman.Add(metrics.Spearman);
            KendallTau.Add(metrics.KendallTau);
            ExactMatch.Add(metrics.ExactMatch);
        }
    }

    /// <summary>Summary statistics of one scalar metric over permutations.</summary>
    public sealed class MetricChangeStatistics : IMetricsStatistics<double[]>
    {
        internal MetricChangeStatistics()
        {
        }

        /// <summary>Change of the metric when the feature is permuted (mean, standard deviation, count).</summary>
        public MetricStatistics Change { get; } = new();

        void IMetricsStatistics<double[]>.Add(double[] metrics) => Change.Add(metrics[0]);
    }

}

namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence
{
    /// <summary>ML.NET's own model types built from ours (internal constructors).</summary>
    internal static class MlNetModels
    {
        /// <summary>ML.NET's maximum-entropy predictor with weights <paramref name="weights"/> (k × p, row-major) and bias.</summary>
        public static MulticlassPredictionTransformer<Microsoft.ML.Trainers.MaximumEntropyModelParameters> MaximumEntropy(IHostEnvironment env,
            ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int classes, int features, string[] classNames, DataViewSchema inputSchema,
            string featureColumnName, string labelColumnName)
        {
            var rows = new VBuffer<float>[classes];
            for (int c = 0; c < classes; c++) rows[c] = new VBuffer<float>(features, weights.Slice(c * features, features).ToArray());
            var parameters = new Microsoft.ML.Trainers.MaximumEntropyModelParameters(env, rows, bias.ToArray(), classes, features, classNames, null);
            return new MulticlassPredictionTransformer<Microsoft.ML.Trainers.MaximumEntropyModelParameters>(env, parameters, inputSchema,
                featureColumnName, labelColumnName, "Score", "PredictedLabel");
        }

        /// <summary>
        /// ML.NET's calibrated logistic-regression predictor (what <c>LbfgsLogisticRegression</c> builds: Platt calibrator with
        /// slope −1 and offset 0, so Probability = σ(Score)) with weights <paramref name="weights"/> and bias.
        /// </summary>
        public static BinaryPredictionTransformer<Microsoft.ML.Calibrators.CalibratedModelParametersBase<Microsoft.ML.Trainers.LinearBinaryModelParameters, Microsoft.ML.Calibrators.PlattCalibrator>> LogisticRegression(
            IHostEnvironment env, float[] weights, float bias, DataViewSchema inputSchema, string featureColumnName)
        {
            var buffer = new VBuffer<float>(weights.Length, weights);
            var linear = new Microsoft.ML.Trainers.LinearBinaryModelParameters(env, in buffer, bias);
            var calibrated = new Microsoft.ML.Calibrators.ParameterMixingCalibratedModelParameters<Microsoft.ML.Trainers.LinearBinaryModelParameters, Microsoft.ML.Calibrators.PlattCalibrator>(
                env, linear, new Microsoft.ML.Calibrators.PlattCalibrator(env, -1, 0));
            return new BinaryPredictionTransformer<Microsoft.ML.Calibrators.CalibratedModelParametersBase<Microsoft.ML.Trainers.LinearBinaryModelParameters, Microsoft.ML.Calibrators.PlattCalibrator>>(
                env, calibrated, inputSchema, featureColumnName);
        }
    }

    /// <summary>
    /// ML.NET's permutation-feature-importance engine with our metrics. ML.NET's engine keys its results by the features
    /// column's slot names and fails on a column without them; here such a column gets "Slot i" (<see cref="Data.SlotNamedDataView"/>).
    /// </summary>
    internal static class FeatureImportance
    {
        /// <summary>The features column of the predictor that ends <paramref name="model"/> (a predictor or a chain ending in one).</summary>
        private static string? FeatureColumn(ITransformer model) => model switch
        {
            ISingleFeaturePredictionTransformer predictor => predictor.FeatureColumnName,
            IEnumerable<ITransformer> chain => chain.LastOrDefault() is { } last ? FeatureColumn(last) : null,
            _ => null,
        };

        private static IDataView WithSlotNames(ITransformer model, IDataView data) =>
            FeatureColumn(model) is { } features ? Data.SlotNamedDataView.Ensure(data, features) : data;

        /// <summary>Per feature slot (keyed by slot name, or "Slot i"), the change of the label-ranking metrics when it is permuted.</summary>
        public static ImmutableDictionary<string, LabelRankingMetricsStatistics> LabelRanking(IHostEnvironment env, ITransformer model, IDataView data,
            Func<IDataView, LabelRankingMetrics> evaluate, int permutationCount, int? numberOfExamplesToUse) =>
            PermutationFeatureImportanceExtensions.PermutationFeatureImportance<LabelRankingMetrics, LabelRankingMetricsStatistics>(env, model, WithSlotNames(model, data),
                () => new LabelRankingMetricsStatistics(), evaluate,
                (a, b) => new LabelRankingMetrics(a.Spearman - b.Spearman, a.KendallTau - b.KendallTau, a.ExactMatch - b.ExactMatch,
                    a.PerPositionAccuracy.Zip(b.PerPositionAccuracy, (x, y) => x - y).ToArray(), a.Rows),
                permutationCount, false, numberOfExamplesToUse);

        /// <summary>Per feature slot, the change of a scalar metric of the scored data when it is permuted.</summary>
        public static ImmutableDictionary<string, MetricChangeStatistics> Scalar(IHostEnvironment env, ITransformer model, IDataView data,
            Func<IDataView, double> metric, int permutationCount, int? numberOfExamplesToUse) =>
            PermutationFeatureImportanceExtensions.PermutationFeatureImportance<double[], MetricChangeStatistics>(env, model, WithSlotNames(model, data),
                () => new MetricChangeStatistics(), scored => [metric(scored)], (a, b) => [a[0] - b[0]], permutationCount, false, numberOfExamplesToUse);
    }
}
