using System.Security.Cryptography;
using System.Text;

namespace Portal.Infrastructure.Identity;

/// <summary>A key for remembering a checked credential in memory without keeping the password itself.</summary>
public static class CredentialKey
{
    private static readonly byte[] ProcessSalt = RandomNumberGenerator.GetBytes(32);

    public static string For(string userName, string password) =>
        Convert.ToHexString(HMACSHA256.HashData(ProcessSalt, Encoding.UTF8.GetBytes(userName + "\n" + password)));
}
