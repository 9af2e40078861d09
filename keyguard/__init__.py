"""keyguard: find leaked credentials and key-hygiene problems in working trees and git history."""

__version__ = "0.1.0"
