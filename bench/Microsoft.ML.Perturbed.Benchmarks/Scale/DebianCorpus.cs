using System.Diagnostics;
using System.Text;

namespace Microsoft.ML.Perturbed.Benchmarks.Scale;

/// <summary>
/// The real-text corpus: this machine's Debian package descriptions. Reads <c>apt-cache dumpavail</c> (one record per
/// package: <c>Section</c>, the short <c>Description</c> and its continuation lines, <c>Description-md5</c>) and, where
/// apt has downloaded them (<c>apt-get update -o Acquire::Languages=en</c>), the long descriptions of the
/// <c>Translation-en</c> indexes, joined on <c>Description-md5</c>: Debian's Packages indexes carry only the short
/// description, the long one lives in the translations. Writes a tab-separated file: name, label (the section without
/// a <c>contrib/</c>, <c>non-free/</c> or <c>non-free-firmware/</c> prefix), text (short + long description on one line).
/// </summary>
public static class DebianCorpus
{
    /// <summary>Writes the corpus to <paramref name="path"/>; returns the number of packages written.</summary>
    public static int Write(string path)
    {
        Dictionary<string, string> longDescriptions = LongDescriptions();
        Console.Error.WriteLine($"[debian] {longDescriptions.Count} long descriptions from the Translation-en indexes");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        int written = 0, joined = 0;
        var seen = new HashSet<string>();
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            writer.WriteLine("Name\tLabel\tText");
            foreach (Dictionary<string, string> record in Records(Command("apt-cache", "dumpavail")))
            {
                if (!record.TryGetValue("Package", out string? name) || !seen.Add(name)) continue;
                if (!record.TryGetValue("Section", out string? section) || !record.TryGetValue("Description", out string? description)) continue;
                string text = description;
                if (record.TryGetValue("Description-md5", out string? md5) && longDescriptions.TryGetValue(md5, out string? full))
                {
                    text = full;   // the translation's Description-en: the same short line and the long description
                    joined++;
                }
                writer.Write(name);
                writer.Write('\t');
                writer.Write(Label(section));
                writer.Write('\t');
                writer.WriteLine(OneLine(text));
                written++;
            }
        }
        Console.Error.WriteLine($"[debian] {written} packages written to {path}, {joined} with a long description");
        return written;
    }

    /// <summary>The section without its archive-area prefix ("non-free/libs" → "libs").</summary>
    public static string Label(string section)
    {
        foreach (string prefix in new[] { "contrib/", "non-free-firmware/", "non-free/" })
        {
            if (section.StartsWith(prefix, StringComparison.Ordinal)) return section[prefix.Length..];
        }
        return section;
    }

    /// <summary>A description's lines as one line of words: a continuation line's leading space and the " ." paragraph marks dropped, tabs to spaces.</summary>
    private static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line == ".") continue;
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(line.Replace('\t', ' ').Replace('\r', ' '));
        }
        return sb.ToString();
    }

    /// <summary>md5 → Description-en (short line, then the long description's lines), from every Translation-en index apt holds.</summary>
    private static Dictionary<string, string> LongDescriptions()
    {
        var result = new Dictionary<string, string>();
        const string lists = "/var/lib/apt/lists";
        if (!Directory.Exists(lists)) return result;
        foreach (string file in Directory.GetFiles(lists, "*_i18n_Translation-en*").Order(StringComparer.Ordinal))
        {
            foreach (Dictionary<string, string> record in Records(Command("/usr/lib/apt/apt-helper", "cat-file", file)))
            {
                if (record.TryGetValue("Description-md5", out string? md5) && record.TryGetValue("Description-en", out string? text)) result.TryAdd(md5, text);
            }
        }
        return result;
    }

    /// <summary>Deb822 records: "Field: value" with continuation lines (starting with a space) appended after a newline.</summary>
    private static IEnumerable<Dictionary<string, string>> Records(IEnumerable<string> lines)
    {
        var record = new Dictionary<string, string>();
        string? field = null;
        foreach (string line in lines)
        {
            if (line.Length == 0)
            {
                if (record.Count > 0) yield return record;
                record = new Dictionary<string, string>();
                field = null;
            }
            else if (line[0] is ' ' or '\t')
            {
                if (field is not null) record[field] += "\n" + line;
            }
            else
            {
                int colon = line.IndexOf(':');
                if (colon <= 0) continue;
                field = line[..colon];
                record[field] = line[(colon + 1)..].Trim();
            }
        }
        if (record.Count > 0) yield return record;
    }

    /// <summary>The output lines of a command (which must succeed).</summary>
    private static IEnumerable<string> Command(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start.");
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null) yield return line;
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}.");
    }
}
