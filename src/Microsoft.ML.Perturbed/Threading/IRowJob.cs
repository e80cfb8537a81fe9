namespace Microsoft.ML.Perturbed.Threading;

/// <summary>Work over a range of rows; implementations are reused across calls so scheduling allocates nothing.</summary>
internal interface IRowJob
{
    /// <summary>Processes rows <c>[start, end)</c>. Called concurrently for disjoint ranges.</summary>
    void Execute(int start, int end);
}
