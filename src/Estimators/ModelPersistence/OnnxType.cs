namespace Microsoft.ML.Perturbed.Estimators.ModelPersistence;

/// <summary>ONNX tensor element types (TensorProto.DataType of the ONNX specification) that our graphs use.</summary>
internal enum OnnxType : long
{
    /// <summary>float32.</summary>
    Float = 1,

    /// <summary>int64.</summary>
    Int64 = 7,

    /// <summary>float64.</summary>
    Double = 11,

    /// <summary>uint32 (ML.NET's key values).</summary>
    UInt32 = 12,
}
