using TorchSharp;
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
        return FenchelYoungFunction.apply(theta, target, optimizer, draw);
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
