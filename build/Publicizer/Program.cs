// Usage: Publicizer <input.dll> <output.dll>
// Writes a copy of <input.dll> in which every type, method and field is public (nested types nested-public); the
// assembly identity (name, version, public key) is kept, so code compiled against the copy binds to the real assembly.
using Mono.Cecil;

if (args.Length != 2)
{
    Console.Error.WriteLine("Usage: Publicizer <input.dll> <output.dll>");
    return 2;
}
var resolver = new DefaultAssemblyResolver();
resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(args[0]))!);
using (AssemblyDefinition assembly = AssemblyDefinition.ReadAssembly(args[0], new ReaderParameters { AssemblyResolver = resolver }))
{
    foreach (TypeDefinition type in assembly.MainModule.GetTypes())
    {
        if (type.IsNested) type.IsNestedPublic = true;
        else type.IsPublic = true;
        foreach (MethodDefinition method in type.Methods) method.IsPublic = true;
        foreach (FieldDefinition field in type.Fields) field.IsPublic = true;
    }
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[1]))!);
    string temporary = args[1] + ".tmp";
    assembly.Write(temporary);
    File.Move(temporary, args[1], overwrite: true);
}
Console.WriteLine($"Publicizer: {Path.GetFileName(args[0])} → {args[1]}");
return 0;
