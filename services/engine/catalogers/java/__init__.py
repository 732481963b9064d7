"""Java archives: JAR, WAR, EAR and plugin archives, read as zip files (including nested archives)."""
