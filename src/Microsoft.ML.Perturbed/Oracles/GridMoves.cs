namespace Microsoft.ML.Perturbed.Oracles;

/// <summary>Moves allowed on a grid DAG from the top-left to the bottom-right corner.</summary>
internal enum GridMoves
{
    /// <summary>One step right or one step down.</summary>
    RightDown = 0,

    /// <summary>One step right, down, or diagonally down-right (the forward half of the 8-neighbourhood).</summary>
    RightDownDiagonal = 1,
}
