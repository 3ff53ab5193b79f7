using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Streaming.Api.Auth;

/// <summary>
/// The Data Protection key ring (what session cookies are sealed with) in a folder only its owner may enter (0700),
/// one file per key, each readable by its owner only (0600), written whole under a temporary name and renamed.
/// </summary>
public sealed class OwnerOnlyKeyRing : IXmlRepository
{
    const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    readonly string _folder;

    public OwnerOnlyKeyRing(string folder)
    {
        _folder = Path.GetFullPath(folder);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(_folder);
            return;
        }
        Directory.CreateDirectory(_folder, FolderMode);
        // A folder made earlier, or by hand, is narrowed too.
        File.SetUnixFileMode(_folder, FolderMode);
        foreach (var file in Directory.EnumerateFiles(_folder, "*.xml"))
        {
            File.SetUnixFileMode(file, FileMode);
        }
    }

    public string Folder => _folder;

    public IReadOnlyCollection<XElement> GetAllElements() =>
        [.. Directory.EnumerateFiles(_folder, "*.xml").Order(StringComparer.Ordinal).Select(file => XElement.Load(file))];

    public void StoreElement(XElement element, string friendlyName)
    {
        var name = string.Concat(friendlyName.Where(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
        var path = Path.Combine(_folder, $"{(name.Length > 0 ? name : Guid.NewGuid().ToString())}.xml");
        var temporary = path + ".tmp";
        var stream = OperatingSystem.IsWindows()
            ? new FileStream(temporary, System.IO.FileMode.Create, FileAccess.Write)
            : new FileStream(temporary, new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write, UnixCreateMode = FileMode });
        using (stream)
        {
            element.Save(stream);
        }
        File.Move(temporary, path, overwrite: false);
    }
}
