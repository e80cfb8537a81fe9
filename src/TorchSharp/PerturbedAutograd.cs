using Microsoft.ML.Perturbed.Layers;
using Microsoft.ML.Perturbed.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.Perturbed.TorchSharp;

/// <summary>
/// TorchSharp autograd functions, so a TorchSharp model can put a perturbed layer or the Fenchel-Young loss inside its
/// own graph (a "differentiable solver" layer).
/// </summary>
public static class PerturbedAutograd
{
    /// <summary>
    /// ŷ_ε(θ) as a differentiable layer: backward is the score-function VJP from the forward samples — kept on the device
    /// when the batch is solved in one chunk (no extra solve), solved again chunk by chunk otherwise (see
    /// <see cref="TorchPerturbedOptimizer.SamplesPerChunk"/>).
    /// </summary>
    /// <param name="optimizer">The device optimizer (head, ε, M, noise, seed).</param>
    /// <param name="theta">Scores [batch, d], typically the output of a model.</param>
    /// <param name="draw">Noise draw (a training loop passes its step).</param>
    public static Tensor Perturbed(TorchPerturbedOptimizer optimizer, Tensor theta, ulong draw = 0)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(theta);
        return PerturbedLayer.apply(theta, optimizer, draw);
    }

    /// <summary>
    /// The perturbed Fenchel-Young loss, averaged over rows: value mean(F̂_ε(θ) − ⟨θ, y⟩) (the loss up to a constant in θ),
    /// gradient (ŷ_ε(θ) − y)/batch. Its head must map scores to their own space (argmax, top-k, ranking).
    /// </summary>
    /// <param name="optimizer">The device optimizer.</param>
    /// <param name="theta">Scores [batch, d].</param>
    /// <param name="target">Targets [batch, d] (one-hot, k-hot, rank vectors).</param>
    /// <param name="draw">Noise draw.</param>
    public static Tensor FenchelYoungLoss(TorchPerturbedOptimizer optimizer, Tensor theta, Tensor target, ulong draw = 0)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(target);
        return FenchelYoungFunction.apply(theta, target, optimizer, draw);
    }

    /// <summary>
    /// Any core <see cref="Layers.Layer"/> — blackbox interpolation, identity with projection, a soft sorting operator, a
    /// chain, the perturbed optimizer over a user oracle — as a differentiable function of a TorchSharp tensor: forward
    /// and backward run the layer on the host (θ and g are copied there and back), with the same draw in both passes.
    /// </summary>
    /// <param name="layer">The layer.</param>
    /// <param name="theta">Inputs [batch, layer.Dimension].</param>
    /// <param name="draw">Noise draw.</param>
    public static Tensor Layer(Layer layer, Tensor theta, ulong draw = 0)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(theta);
        return HostLayer.apply(theta, layer, draw);
    }

    /// <summary>
    /// Any core <see cref="StructuredLoss"/> — Fenchel-Young, a layer loss, SPO+, direct loss minimization, a user's loss — as
    /// a differentiable TorchSharp scalar: the mean over rows of its value, with gradient (∂L/∂θ)/batch from the host.
    /// </summary>
    /// <param name="loss">The loss.</param>
    /// <param name="theta">Outputs [batch, loss.Dimension].</param>
    /// <param name="target">Targets [batch, loss.TargetDimension], or encoded [batch, loss.EncodedTargetDimension] (not differentiated).</param>
    /// <param name="draw">Noise draw.</param>
    /// <param name="weights">Optional row weights (finite, ≥ 0): the value is then Σ wᵣLᵣ / Σ wᵣ.</param>
    public static Tensor Loss(StructuredLoss loss, Tensor theta, Tensor target, ulong draw = 0, float[]? weights = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(target);
        return HostLoss.apply(theta, target, loss, draw, weights ?? []);
    }

    /// <summary>Copies a [batch, width] tensor to a host array, naming the argument when its shape is wrong.</summary>
    private static float[] Host(Tensor t, int width, string name)
    {
        if (t.dim() != 2 || t.shape[1] != width || t.shape[0] < 1)
        {
            throw new ArgumentException($"Expected '{name}' of shape [batch, {width}] with at least one row, got [{string.Join(", ", t.shape)}].", name);
        }
        return t.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }

    private sealed class HostLayer : autograd.SingleTensorFunction<HostLayer>
    {
        public override string Name => "HostLayer";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var theta = (Tensor)vars[0];
            var layer = (Layer)vars[1];
            var draw = (ulong)vars[2];
            float[] th = Host(theta, layer.Dimension, nameof(theta));
            int batch = th.Length / layer.Dimension;
            var y = new float[batch * layer.OutputDimension];
            layer.Forward(th, y, draw);
            ctx.save_data("layer", layer);
            ctx.save_data("draw", draw);
            ctx.save_data("theta", th);
            return tensor(y, [batch, layer.OutputDimension]).to(theta.dtype).to(theta.device);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var layer = (Layer)ctx.get_data("layer");
            var th = (float[])ctx.get_data("theta");
            float[] g = Host(gradOutput, layer.OutputDimension, "gradOutput");
            int batch = th.Length / layer.Dimension;
            var vjp = new float[th.Length];
            layer.ForwardVjp(th, g, new float[g.Length], vjp, (ulong)ctx.get_data("draw"));
            return [tensor(vjp, [batch, layer.Dimension]).to(gradOutput.dtype).to(gradOutput.device), null!, null!];
        }
    }

    private sealed class HostLoss : autograd.SingleTensorFunction<HostLoss>
    {
        public override string Name => "HostLoss";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var theta = (Tensor)vars[0];
            var target = (Tensor)vars[1];
            var loss = (StructuredLoss)vars[2];
            var draw = (ulong)vars[3];
            var weights = (float[])vars[4];
            float[] th = Host(theta, loss.Dimension, nameof(theta));
            int batch = th.Length / loss.Dimension;
            int width = target.dim() == 2 && target.shape[1] == loss.EncodedTargetDimension ? loss.EncodedTargetDimension : loss.TargetDimension;
            float[] y = Host(target, width, nameof(target));
            if (y.Length != batch * width)
            {
                throw new ArgumentException($"Expected 'target' of shape [{batch}, {width}] (one row per row of theta), got [{string.Join(", ", target.shape)}].", nameof(target));
            }
            if (weights.Length > 0 && weights.Length != batch)
            {
                throw new ArgumentException($"Expected {batch} 'weights', one per row of theta, got {weights.Length}.", nameof(weights));
            }
            var gradient = new float[th.Length];
            var rowLoss = new float[batch];
            double mean = loss.Evaluate(th, y, rowLoss, gradient, draw);
            if (weights.Length > 0)
            {
                mean = Training.StructuredTrainer.Weigh(gradient, rowLoss, weights, loss.Dimension);
            }
            for (int i = 0; i < gradient.Length; i++) gradient[i] /= batch;   // ∂ mean/∂θ
            ctx.save_for_backward([tensor(gradient, [batch, loss.Dimension]).to(theta.dtype).to(theta.device)]);
            return tensor((float)mean).to(theta.dtype).to(theta.device);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            Tensor gradient = ctx.get_saved_variables()[0];
            return [gradient * gradOutput.to(gradient.device), null!, null!, null!, null!];
        }
    }

    private sealed class PerturbedLayer : autograd.SingleTensorFunction<PerturbedLayer>
    {
        public override string Name => "PerturbedOptimizer";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var theta = (Tensor)vars[0];
            var optimizer = (TorchPerturbedOptimizer)vars[1];
            var draw = (ulong)vars[2];
            using var noGrad = no_grad();
            Tensor th = optimizer.Prepare(theta.detach());
            ctx.save_data("optimizer", optimizer);
            ctx.save_data("draw", draw);
            Tensor solution;
            if (optimizer.SingleChunk(th.shape[0]))
            {
                // One chunk: keep its samples for backward (no second solve).
                (Tensor y, _, Tensor z) = optimizer.SolveChunk(th, draw, 0, optimizer.Samples);
                ctx.save_for_backward([y, z]);
                solution = y.sum([0]).div_(optimizer.Samples);
            }
            else
            {
                // Several chunks: keep θ only and solve the same samples again in backward (memory stays per chunk).
                solution = optimizer.Reduce(th, draw, solution: true, perturbedMax: false, cotangent: null).Solution!;
                ctx.save_for_backward([th]);
            }
            return solution.to(theta.dtype).to(theta.device);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            List<Tensor> saved = ctx.get_saved_variables();
            var optimizer = (TorchPerturbedOptimizer)ctx.get_data("optimizer");
            Tensor g = gradOutput.to(ScalarType.Float32).to(optimizer.Device);
            // Saved (y, z) of the one chunk, or θ alone to solve the chunks again.
            Tensor vjp = saved.Count == 2
                ? optimizer.VjpSum(saved[0], saved[1], g).div_(optimizer.Samples * optimizer.Epsilon)
                : optimizer.Reduce(saved[0], (ulong)ctx.get_data("draw"), solution: false, perturbedMax: false, g).Vjp!;
            // One gradient per argument of apply (θ, optimizer, draw); only θ has one.
            return [vjp.to(gradOutput.dtype).to(gradOutput.device), null!, null!];
        }
    }

    private sealed class FenchelYoungFunction : autograd.SingleTensorFunction<FenchelYoungFunction>
    {
        public override string Name => "PerturbedFenchelYoungLoss";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var theta = (Tensor)vars[0];
            var target = (Tensor)vars[1];
            var optimizer = (TorchPerturbedOptimizer)vars[2];
            var draw = (ulong)vars[3];
            using var noGrad = no_grad();
            Tensor th = optimizer.Prepare(theta.detach());
            Tensor y = optimizer.LikeScores(target, th, nameof(target));
            (Tensor solution, Tensor perturbedMax) = optimizer.Forward(th, draw);   // ŷ and F̂ per row
            Tensor loss = (perturbedMax - (th * y).sum(-1)).mean();
            ctx.save_for_backward([(solution - y) / th.shape[0]]);            // ∂mean loss/∂θ = (ŷ − y)/batch
            return loss.to(theta.dtype).to(theta.device);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            Tensor gradient = ctx.get_saved_variables()[0];
            // One gradient per argument of apply (θ, target, optimizer, draw); the target is data, not differentiated.
            return [(gradient * gradOutput.to(gradient.device)).to(gradOutput.dtype).to(gradOutput.device), null!, null!, null!];
        }
    }
}
